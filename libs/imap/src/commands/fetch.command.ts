// FETCH / UID FETCH: everything structural comes from the stored summary, bodies as byte ranges of the stored source.
import { decode as decodeBase64 } from 'libbase64';
import { decode as decodeQuotedPrintable } from 'libqp';
import type { MessageRecord } from '@dizi/mail-store/ports/message-store';
import { formatBodyStructure, formatEnvelope } from '@dizi/mime/imap-format';
import { defineCommand, SELECTED, type CommandContext } from '../command';
import { bad, no } from '../imap-error';
import { findPart, readRange, sectionRange, summaryOf, type StoredSummary } from '../message-access';
import type { ImapArg } from '../parser/command-parser';
import { parseFetchItems, parseFetchModifiers, type FetchPlan, type SectionItem } from '../parser/fetch-items';
import { formatSequenceSet, inRanges, resolveRanges, type SequenceSet } from '../parser/sequence-set';
import type { Session } from '../session';
import { flagList, formatInternalDate } from '../wire';

export function toRanges(uids: number[]): Array<{ from: number; to: number }> {
  const out: Array<{ from: number; to: number }> = [];
  for (const u of uids) {
    const last = out[out.length - 1];
    if (last && last.to + 1 === u) last.to = u;
    else out.push({ from: u, to: u });
  }
  return out;
}

function literal(data: Buffer, binary: boolean): Buffer {
  const eight = binary && data.includes(0);
  return Buffer.concat([Buffer.from(`${eight ? '~' : ''}{${data.length}}\r\n`), data]);
}

function filterHeader(header: Buffer, fields: string[], not: boolean): Buffer {
  const wanted = new Set(fields.map((f) => f.toLowerCase()));
  const text = header.toString('latin1');
  const lines = text.split(/(?<=\n)/);
  let keep = false;
  let out = '';
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') break;
    if (line[0] === ' ' || line[0] === '\t') {
      if (keep) out += line;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    keep = colon > 0 && wanted.has(name) !== not;
    if (keep) out += line;
  }
  return Buffer.from(out + '\r\n', 'latin1');
}

async function sectionBytes(session: Session, record: MessageRecord, summary: StoredSummary, item: SectionItem): Promise<Buffer | null> {
  const store = session.store;
  const { part, text } = item;
  if (part === '' && text === '') return readRange(store, record, 0, record.size);
  let key: string;
  let what: 'header' | 'body' | 'mime';
  if (text === 'MIME') {
    key = part;
    what = 'mime';
  } else if (text === '') {
    key = part;
    what = 'body';
  } else {
    // HEADER / TEXT of the message itself, or of the message attached as part `part`.
    key = part === '' ? 'TEXT' : `${part}.TEXT`;
    what = text === 'TEXT' ? 'body' : 'header';
  }
  const range = sectionRange(record, summary, key, what);
  if (!range) return null;
  const bytes = await readRange(store, record, range.start, range.end);
  if (text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') return filterHeader(bytes, item.fields, text === 'HEADER.FIELDS.NOT');
  return bytes;
}

async function binaryBytes(session: Session, record: MessageRecord, summary: StoredSummary, item: SectionItem): Promise<Buffer | null> {
  const raw = await sectionBytes(session, record, summary, { ...item, text: '' });
  if (raw === null) return null;
  if (item.part === '') return raw;
  const node = findPart(summary.bodyStructure, item.part);
  if (!node || node.kind !== 'single') return raw;
  const encoding = node.encoding.toLowerCase();
  if (encoding === 'base64') return decodeBase64(raw.toString('latin1'));
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(raw);
  if (['7bit', '8bit', 'binary'].includes(encoding)) return raw;
  throw no(`Unknown Content-Transfer-Encoding ${encoding}`, 'UNKNOWN-CTE');
}

function applyPartial(data: Buffer, item: SectionItem): Buffer {
  if (!item.partial) return data;
  const start = Math.min(item.partial.offset, data.length);
  const end = item.partial.length === null ? data.length : Math.min(data.length, start + item.partial.length);
  return data.subarray(start, end);
}

async function fetchOne(session: Session, record: MessageRecord, plan: FetchPlan, withUid: boolean, showFlags: boolean): Promise<Buffer> {
  const parts: Buffer[] = [];
  const push = (s: string | Buffer) => parts.push(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  if (withUid) push(`UID ${record.uid}`);
  if (showFlags) push(`FLAGS ${flagList(session.flagsOf(record.uid))}`);
  if (plan.internalDate) push(`INTERNALDATE ${formatInternalDate(record.internalDate)}`);
  if (plan.size) push(`RFC822.SIZE ${record.size}`);
  if (plan.modseq || session.condstore && plan.flags) push(`MODSEQ (${record.modseq})`);
  const summary = summaryOf(record);
  const needsSummary = plan.envelope || plan.body || plan.bodyStructure || plan.sections.some((s) => s.part !== '' || s.text !== '') || plan.rfc822.some((r) => r !== 'RFC822');
  if (needsSummary && !summary) throw no('Message structure is not available', 'SERVERBUG');
  if (plan.envelope) push(`ENVELOPE ${formatEnvelope(summary!.envelope)}`);
  if (plan.body) push(`BODY ${formatBodyStructure(summary!.bodyStructure, false)}`);
  if (plan.bodyStructure) push(`BODYSTRUCTURE ${formatBodyStructure(summary!.bodyStructure, true)}`);
  for (const r of plan.rfc822) {
    let data: Buffer;
    if (r === 'RFC822') data = await readRange(session.store, record, 0, record.size);
    else {
      const range = sectionRange(record, summary!, 'TEXT', r === 'RFC822.HEADER' ? 'header' : 'body')!;
      data = await readRange(session.store, record, range.start, range.end);
    }
    push(Buffer.concat([Buffer.from(`${r} `), literal(data, false)]));
  }
  for (const item of plan.sections) {
    if (item.kind === 'body') {
      const data = summary || (item.part === '' && item.text === '') ? await sectionBytes(session, record, summary!, item) : null;
      push(Buffer.concat([Buffer.from(`${item.label} `), data === null ? Buffer.from('NIL') : literal(applyPartial(data, item), false)]));
    } else {
      if (!summary && item.part !== '') throw no('Message structure is not available', 'SERVERBUG');
      const data = await binaryBytes(session, record, summary!, item);
      if (item.kind === 'binary-size') push(`${item.label} ${data === null ? 'NIL' : data.length}`);
      else push(Buffer.concat([Buffer.from(`${item.label} `), data === null ? Buffer.from('NIL') : literal(applyPartial(data, item), true)]));
    }
  }
  const body: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i) body.push(Buffer.from(' '));
    body.push(p);
  });
  return Buffer.concat([Buffer.from(`${session.seqOf(record.uid)} FETCH (`), ...body, Buffer.from(')')]);
}

export async function runFetch(ctx: CommandContext, set: SequenceSet, itemsArg: ImapArg, modifiersArg: ImapArg | undefined): Promise<void> {
  const { session, uid } = ctx;
  const sel = session.requireSelected();
  const plan = parseFetchItems(itemsArg);
  const modifiers = parseFetchModifiers(modifiersArg);
  if (modifiers.vanished && (!uid || !session.enabled.has('QRESYNC'))) throw bad('VANISHED needs UID FETCH and QRESYNC');
  if (plan.modseq || modifiers.changedSince !== null) await session.enableCondstore();
  if (modifiers.changedSince !== null) plan.modseq = true;
  const uids = session.resolveSet(set, uid);
  if (modifiers.vanished && !set.saved) {
    const changes = await session.store.changesSince(sel.folder.id, modifiers.changedSince!);
    const ranges = resolveRanges(set.ranges, sel.knownUidNext);
    const vanished = changes.vanished.filter((u) => inRanges(u, ranges));
    if (vanished.length) session.untagged(`VANISHED (EARLIER) ${formatSequenceSet(vanished)}`);
  }
  if (uids.length === 0) return;
  const needsSummary = plan.envelope || plan.body || plan.bodyStructure || plan.sections.length > 0 || plan.rfc822.length > 0;
  const records = await session.store.listMessages(sel.folder.id, {
    uids: toRanges(uids),
    withSummary: needsSummary,
    changedSince: modifiers.changedSince ?? undefined,
  });
  let seenUids: number[] = [];
  if (plan.setsSeen && !sel.readOnly) {
    seenUids = records.filter((r) => !r.flags.includes('\\Seen')).map((r) => r.uid);
    if (seenUids.length) {
      const result = await session.store.setFlags(sel.folder.id, toRanges(seenUids), 'add', ['\\Seen']);
      const changed = new Map(result.changed.map((c) => [c.uid, c]));
      for (const r of records) {
        const c = changed.get(r.uid);
        if (!c) continue;
        r.flags = c.flags;
        r.modseq = c.modseq;
        sel.flags.set(r.uid, c.flags);
        sel.modseqs.set(r.uid, c.modseq);
      }
    }
  }
  const seen = new Set(seenUids);
  for (const record of records) {
    if (sel.pendingExpunge.has(record.uid)) continue;
    // What the client is told must agree with the session's cache, or later syncs repeat it.
    sel.flags.set(record.uid, record.flags);
    sel.modseqs.set(record.uid, record.modseq);
    const line = await fetchOne(session, record, plan, uid || plan.uid, plan.flags || seen.has(record.uid));
    session.untagged(line);
    await session.drained();
  }
}

export const fetchCommand = defineCommand({
  name: 'FETCH',
  uidVariant: true,
  states: SELECTED,
  args: ['seqset', 'rest'],
  forbidsExpunge: (ctx) => !ctx.uid,
  async handle(ctx, [set, rest]) {
    const args = rest as ImapArg[];
    if (args.length < 1 || args.length > 2) throw bad('FETCH needs items');
    await runFetch(ctx, set as SequenceSet, args[0], args[1]);
  },
});
