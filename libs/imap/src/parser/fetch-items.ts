// FETCH attributes (RFC 3501 §6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ) parsed into a plan.
import { bad } from '../imap-error';
import { argString, type ImapArg } from './command-parser';

export interface SectionItem {
  kind: 'body' | 'binary' | 'binary-size';
  peek: boolean;
  /** Part number (`1.2`) or '' for the whole message. */
  part: string;
  /** '', HEADER, TEXT, MIME, HEADER.FIELDS, HEADER.FIELDS.NOT */
  text: string;
  fields: string[];
  partial: { offset: number; length: number | null } | null;
  /** How the response names it, e.g. `BODY[HEADER.FIELDS (FROM)]<0>`. */
  label: string;
}

export interface FetchPlan {
  flags: boolean;
  uid: boolean;
  internalDate: boolean;
  size: boolean;
  envelope: boolean;
  body: boolean;
  bodyStructure: boolean;
  modseq: boolean;
  rfc822: Array<'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT'>;
  sections: SectionItem[];
  /** Some item sets \Seen. */
  setsSeen: boolean;
}

const SECTION = /^(BODY|BODY\.PEEK|BINARY|BINARY\.PEEK|BINARY\.SIZE)\[([^\]]*)\](?:<(\d+)(?:\.(\d+))?>)?$/i;

function emptyPlan(): FetchPlan {
  return { flags: false, uid: false, internalDate: false, size: false, envelope: false, body: false, bodyStructure: false, modseq: false, rfc822: [], sections: [], setsSeen: false };
}

function parseSection(name: string, spec: string, offset: string | undefined, length: string | undefined): SectionItem {
  const upper = name.toUpperCase();
  const kind = upper.startsWith('BINARY.SIZE') ? 'binary-size' : upper.startsWith('BINARY') ? 'binary' : 'body';
  const peek = upper.endsWith('.PEEK');
  const m = /^((?:\d+\.)*\d+)?\.?(.*)$/s.exec(spec.trim())!;
  const part = m[1] ?? '';
  let rest = m[2] ?? '';
  let fields: string[] = [];
  const fm = /^(HEADER\.FIELDS(?:\.NOT)?)\s*\(([^)]*)\)$/i.exec(rest);
  if (fm) {
    rest = fm[1];
    fields = fm[2].split(/\s+/).filter(Boolean).map((f) => f.replace(/^"|"$/g, ''));
    if (fields.length === 0) throw bad('HEADER.FIELDS needs field names');
  }
  const text = rest.toUpperCase();
  if (!['', 'HEADER', 'TEXT', 'MIME', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT'].includes(text)) throw bad(`Invalid section ${spec}`);
  if (text === 'MIME' && part === '') throw bad('MIME needs a part number');
  if (kind !== 'body' && text !== '') throw bad('BINARY takes part numbers only');
  if (part.split('.').some((p) => p === '0')) throw bad('Part numbers start at 1');
  if (kind === 'binary-size' && offset !== undefined) throw bad('BINARY.SIZE takes no partial range');
  const sectionText = `${part}${part && text ? '.' : ''}${text}${fields.length ? ` (${fields.map((f) => f.toUpperCase()).join(' ')})` : ''}`;
  const base = kind === 'binary-size' ? 'BINARY.SIZE' : kind === 'binary' ? 'BINARY' : 'BODY';
  const partial = offset === undefined ? null : { offset: Number(offset), length: length === undefined ? null : Number(length) };
  return { kind, peek, part, text, fields, partial, label: `${base}[${sectionText}]${partial ? `<${partial.offset}>` : ''}` };
}

function addItem(plan: FetchPlan, raw: string): void {
  const name = raw.toUpperCase();
  switch (name) {
    case 'ALL': plan.flags = plan.internalDate = plan.size = plan.envelope = true; return;
    case 'FAST': plan.flags = plan.internalDate = plan.size = true; return;
    case 'FULL': plan.flags = plan.internalDate = plan.size = plan.envelope = plan.body = true; return;
    case 'FLAGS': plan.flags = true; return;
    case 'UID': plan.uid = true; return;
    case 'INTERNALDATE': plan.internalDate = true; return;
    case 'RFC822.SIZE': plan.size = true; return;
    case 'ENVELOPE': plan.envelope = true; return;
    case 'BODY': plan.body = true; return;
    case 'BODYSTRUCTURE': plan.bodyStructure = true; return;
    case 'MODSEQ': plan.modseq = true; return;
    case 'RFC822': plan.rfc822.push('RFC822'); plan.setsSeen = true; return;
    case 'RFC822.HEADER': plan.rfc822.push('RFC822.HEADER'); return;
    case 'RFC822.TEXT': plan.rfc822.push('RFC822.TEXT'); plan.setsSeen = true; return;
  }
  const m = SECTION.exec(raw);
  if (!m) throw bad(`Unknown FETCH item ${raw}`);
  const item = parseSection(m[1], m[2], m[3], m[4]);
  if (!item.peek && item.kind !== 'binary-size') plan.setsSeen = true;
  plan.sections.push(item);
}

export function parseFetchItems(arg: ImapArg): FetchPlan {
  const plan = emptyPlan();
  const items = arg.type === 'list' ? arg.items : [arg];
  if (items.length === 0) throw bad('FETCH needs at least one item');
  for (const item of items) {
    const s = argString(item);
    if (s === null || item.type !== 'atom') throw bad('Invalid FETCH item');
    addItem(plan, s);
  }
  return plan;
}

export interface FetchModifiers {
  changedSince: number | null;
  vanished: boolean;
}

export function parseFetchModifiers(arg: ImapArg | undefined): FetchModifiers {
  const out: FetchModifiers = { changedSince: null, vanished: false };
  if (!arg) return out;
  if (arg.type !== 'list') throw bad('Invalid FETCH modifiers');
  for (let i = 0; i < arg.items.length; i++) {
    const name = argString(arg.items[i])?.toUpperCase();
    if (name === 'CHANGEDSINCE') {
      const v = argString(arg.items[++i]);
      if (!v || !/^\d+$/.test(v)) throw bad('CHANGEDSINCE needs a number');
      out.changedSince = Number(v);
    } else if (name === 'VANISHED') out.vanished = true;
    else throw bad(`Unknown FETCH modifier ${name ?? ''}`);
  }
  if (out.vanished && out.changedSince === null) throw bad('VANISHED needs CHANGEDSINCE');
  return out;
}
