/**
 * One message's FETCH response, printed without awaiting anything: structure from the text rendered at delivery (or
 * from the stored summary), and every body item sliced from one read that spans them all.
 */
import { decode as decodeBase64 } from 'libbase64';
import { decode as decodeQuotedPrintable } from 'libqp';
import type { MessageRecord } from '@dizi/mail-store/ports/message-store';
import { formatBodyStructure, formatEnvelope } from '@dizi/mime/imap-format';
import { no } from '../imap-error';
import { findPart, sectionRange, summaryOf, type StoredSummary } from '../message-access';
import type { FetchPlan, SectionItem } from '../parser/fetch-items';
import type { Session } from '../session';
import { flagList, formatInternalDate } from '../wire';
import type { FetchOutput } from './fetch-output';

/** [start, end) in the served message. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The bytes one message's response needs: each body item's range (null: the section does not exist, NIL). */
export interface ByteNeeds {
  ranges: Array<ByteRange | null>;
  /** Covers every range: the one read made for this message; null when nothing is to be read. */
  span: ByteRange | null;
}

type ByteItem = { kind: 'rfc822'; name: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' } | { kind: 'section'; item: SectionItem };

export class FetchRenderer {
  /** rfc822 items, then sections: the order they are printed in. */
  private readonly byteItems: ByteItem[];
  /** Something needs part offsets or the body structure tree, not just the text rendered at delivery. */
  readonly needsSummary: boolean;
  readonly readsBytes: boolean;

  constructor(private readonly session: Session, private readonly plan: FetchPlan, private readonly withUid: boolean) {
    this.byteItems = [
      ...plan.rfc822.map((name): ByteItem => ({ kind: 'rfc822', name })),
      ...plan.sections.map((item): ByteItem => ({ kind: 'section', item })),
    ];
    this.readsBytes = this.byteItems.length > 0;
    this.needsSummary = plan.body || plan.sections.some((s) => s.part !== '' || s.text !== '') || plan.rfc822.some((r) => r !== 'RFC822');
  }

  /** Also checks that the structure the items need is there (SERVERBUG otherwise), before anything is read. */
  needs(record: MessageRecord): ByteNeeds {
    const summary = this.structureOf(record);
    const ranges = this.byteItems.map((b) => {
      const r = this.rangeOf(record, summary, b);
      return r && b.kind === 'section' && readsPartialOnly(b.item) ? narrow(r, b.item.partial!) : r;
    });
    let span: ByteRange | null = null;
    for (const r of ranges) {
      if (!r || r.end <= r.start) continue;
      span = span ? { start: Math.min(span.start, r.start), end: Math.max(span.end, r.end) } : { ...r };
    }
    return { ranges, span };
  }

  /** `data` holds the bytes of `needs.span` (or fewer, when the message is shorter than its summary says). */
  render(record: MessageRecord, showFlags: boolean, needs: ByteNeeds | null, data: Buffer | null, out: FetchOutput): void {
    const plan = this.plan;
    const session = this.session;
    let line = `* ${session.seqOf(record.uid)} FETCH (`;
    let sep = '';
    const item = (text: string) => {
      line += sep + text;
      sep = ' ';
    };
    if (this.withUid) item(`UID ${record.uid}`);
    if (showFlags) item(`FLAGS ${flagList(session.flagsOf(record.uid, record.flags))}`);
    if (plan.internalDate) item(`INTERNALDATE ${formatInternalDate(record.internalDate)}`);
    if (plan.size) item(`RFC822.SIZE ${record.size}`);
    if (plan.modseq || (session.condstore && plan.flags)) item(`MODSEQ (${record.modseq})`);
    const summary = this.structureOf(record);
    const stored = record.imapFormat;
    if (plan.envelope) item(`ENVELOPE ${stored ? stored.envelope : formatEnvelope(summary!.envelope)}`);
    if (plan.body) item(`BODY ${formatBodyStructure(summary!.bodyStructure, false)}`);
    if (plan.bodyStructure) item(`BODYSTRUCTURE ${stored ? stored.bodyStructure : formatBodyStructure(summary!.bodyStructure, true)}`);
    if (!this.readsBytes) {
      out.add(`${line})\r\n`);
      return;
    }
    const span = needs?.span ?? null;
    const slice = (r: ByteRange | null): Buffer | null => {
      if (!r) return null;
      if (!span || !data || r.end <= r.start) return Buffer.alloc(0);
      return data.subarray(Math.min(r.start - span.start, data.length), Math.min(r.end - span.start, data.length));
    };
    this.byteItems.forEach((b, i) => {
      const raw = slice(needs!.ranges[i]);
      if (b.kind === 'rfc822') {
        const bytes = raw ?? Buffer.alloc(0);
        line += `${sep}${b.name} {${bytes.length}}\r\n`;
        out.add(line);
        out.literal(bytes);
      } else if (b.item.kind === 'body') {
        const s = b.item;
        const bytes = raw && (s.text === 'HEADER.FIELDS' || s.text === 'HEADER.FIELDS.NOT') ? filterHeader(raw, s.fields, s.text === 'HEADER.FIELDS.NOT') : raw;
        if (bytes === null) {
          line += `${sep}${s.label} NIL`;
          sep = ' ';
          return;
        }
        const part = readsPartialOnly(s) ? bytes : applyPartial(bytes, s);
        line += `${sep}${s.label} {${part.length}}\r\n`;
        out.add(line);
        out.literal(part);
      } else {
        const s = b.item;
        const decoded = raw === null ? null : decodeBinary(raw, summary, s);
        if (s.kind === 'binary-size') {
          line += `${sep}${s.label} ${decoded === null ? 'NIL' : decoded.length}`;
          sep = ' ';
          return;
        }
        if (decoded === null) {
          line += `${sep}${s.label} NIL`;
          sep = ' ';
          return;
        }
        const part = applyPartial(decoded, s);
        line += `${sep}${s.label} ${part.includes(0) ? '~' : ''}{${part.length}}\r\n`;
        out.add(line);
        out.literal(part);
      }
      line = '';
      sep = ' ';
    });
    out.add(`${line})\r\n`);
  }

  /** The stored summary, when there is one; SERVERBUG when an item needs what neither it nor the stored text has. */
  private structureOf(record: MessageRecord): StoredSummary | null {
    const summary = summaryOf(record);
    if (summary) return summary;
    const unrendered = (this.plan.envelope || this.plan.bodyStructure) && !record.imapFormat;
    if (this.needsSummary || unrendered) throw no('Message structure is not available', 'SERVERBUG');
    return null;
  }

  private rangeOf(record: MessageRecord, summary: StoredSummary | null, b: ByteItem): ByteRange | null {
    const whole = { start: 0, end: record.size };
    if (b.kind === 'rfc822') {
      if (b.name === 'RFC822') return whole;
      return sectionRange(record, summary!, 'TEXT', b.name === 'RFC822.HEADER' ? 'header' : 'body');
    }
    const { part, text } = b.item;
    if (b.item.kind !== 'body') {
      // BINARY of a part decodes its body; of the whole message it is the message as is.
      if (part === '') return whole;
      if (!summary) throw no('Message structure is not available', 'SERVERBUG');
      return sectionRange(record, summary, part, 'body');
    }
    if (part === '' && text === '') return whole;
    if (!summary) return null;
    if (text === 'MIME') return sectionRange(record, summary, part, 'mime');
    if (text === '') return sectionRange(record, summary, part, 'body');
    // HEADER / TEXT of the message itself, or of the message attached as part `part`.
    return sectionRange(record, summary, part === '' ? 'TEXT' : `${part}.TEXT`, text === 'TEXT' ? 'body' : 'header');
  }
}

/** BODY[...]<o.n> of raw bytes: only that part is read (header filtering and decoding need the whole section). */
function readsPartialOnly(item: SectionItem): boolean {
  return item.kind === 'body' && item.partial !== null && item.text !== 'HEADER.FIELDS' && item.text !== 'HEADER.FIELDS.NOT';
}

function narrow(r: ByteRange, partial: NonNullable<SectionItem['partial']>): ByteRange {
  const start = Math.min(r.start + partial.offset, r.end);
  return { start, end: partial.length === null ? r.end : Math.min(r.end, start + partial.length) };
}

function decodeBinary(raw: Buffer, summary: StoredSummary | null, item: SectionItem): Buffer | null {
  if (item.part === '') return raw;
  const node = findPart(summary!.bodyStructure, item.part);
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
