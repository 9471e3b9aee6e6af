/** What local delivery needs from a spooled message's header block: loop signs and RFC 3834 auto-reply signs. */
import { decodeHeaderText, parseHeaderBlock, unfold, type HeaderField } from '@dizi/mime/mime-header';

export interface DeliveryHeaders {
  /** The raw header block, through the blank line. */
  raw: Buffer;
  fields: HeaderField[];
  receivedCount: number;
  /** Lower-cased addresses of every Delivered-To line. */
  deliveredTo: Set<string>;
  /** Lower-cased values of every X-Loop line. */
  xLoop: Set<string>;
  messageId: string | null;
  references: string[];
  subject: string;
  /** Why an automatic reply must not be sent (RFC 3834 §2), or null when one may be. */
  autoReplyBlocker: string | null;
}

const ADDRESS = /<?([^<>\s"]+@[^<>\s"]+)>?/;

function addressOf(value: string): string | null {
  const m = ADDRESS.exec(unfold(value).trim());
  return m ? m[1].toLowerCase() : null;
}

export function inspectHeaders(raw: Buffer): DeliveryHeaders {
  const fields = parseHeaderBlock(raw);
  const all = (key: string) => fields.filter((f) => f.key === key).map((f) => f.value);
  const first = (key: string) => all(key)[0] ?? null;
  const ids = (v: string | null) => (v ? unfold(v).match(/<[^<>\s]+>/g) ?? [] : []);

  let blocker: string | null = null;
  const autoSubmitted = first('auto-submitted');
  const precedence = first('precedence');
  if (autoSubmitted && unfold(autoSubmitted).trim().split(/[\s;(]/)[0].toLowerCase() !== 'no') blocker = 'Auto-Submitted';
  else if (precedence && /^(bulk|list|junk)\b/i.test(unfold(precedence).trim())) blocker = 'Precedence';
  else if (fields.some((f) => f.key.startsWith('list-'))) blocker = 'List-*';
  else if (fields.some((f) => f.key === 'x-auto-response-suppress' && /\b(all|oof|autoreply)\b/i.test(f.value))) blocker = 'X-Auto-Response-Suppress';

  return {
    raw,
    fields,
    receivedCount: all('received').length,
    deliveredTo: new Set(all('delivered-to').map(addressOf).filter((a): a is string => !!a)),
    xLoop: new Set(all('x-loop').map((v) => addressOf(v) ?? unfold(v).trim().toLowerCase())),
    messageId: ids(first('message-id'))[0] ?? null,
    references: ids(first('references')),
    subject: decodeHeaderText(first('subject') ?? ''),
    autoReplyBlocker: blocker,
  };
}

/** Senders that are programs, never people (RFC 3834 §2 and common practice): they get no automatic reply. */
export function isRobotSender(address: string): boolean {
  const local = address.slice(0, address.lastIndexOf('@')).toLowerCase();
  return /^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|listserv|majordomo|owner-.*|.*-request|.*-bounces?)$/.test(local);
}

/**
 * The header block with every To field replaced by one naming `to` (group recipient rewriting).
 * Works on the raw bytes, so the rest of the header and the body stay exactly as they were.
 */
export function rewriteToHeader(raw: Buffer, to: string): Buffer {
  const text = raw.toString('latin1');
  const lines = text.split(/(?<=\n)/);
  const out: string[] = [];
  let skipping = false;
  let placed = false;
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') {
      if (!placed) out.push(`To: <${to}>\r\n`);
      out.push(line);
      skipping = false;
      placed = true;
      continue;
    }
    if (skipping && (line[0] === ' ' || line[0] === '\t')) continue;
    skipping = false;
    if (/^to[ \t]*:/i.test(line)) {
      skipping = true;
      if (!placed) out.push(`To: <${to}>\r\n`);
      placed = true;
      continue;
    }
    out.push(line);
  }
  return Buffer.from(out.join(''), 'latin1');
}
