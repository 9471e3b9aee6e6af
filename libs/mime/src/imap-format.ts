// IMAP wire syntax for ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, RFC 9051 §7.5.2), byte-for-byte as Dovecot 2.3 prints them.
import type { EnvelopeAddress } from './address';
import type { BodyStructure, Envelope } from './message-summary';

/**
 * Every string here is a byte string (one char per octet, see mime-header.ts), and so is the result:
 * write it with `Buffer.from(text, 'latin1')`, never as UTF-8, or literal lengths will be wrong.
 */

/** nstring: NIL, a quoted string, or a literal for CR/LF, 8-bit octets or more than four escapes. */
export function imapNString(value: string | null): string {
  if (value === null) return 'NIL';
  let escapes = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x22 || code === 0x5c) {
      if (escapes++ < 4) continue;
      return literal(value);
    }
    if (code === 0x0d || code === 0x0a || code >= 0x80) return literal(value);
  }
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

function literal(value: string): string {
  return `{${value.length}}\r\n${value}`;
}

function nolf(value: string | null): string {
  return imapNString(value === null ? null : value.replace(/[\r\n]/g, ''));
}

/**
 * Subjects and display names: whitespace runs (folding included) become one space and ends are trimmed;
 * a string that needed that, or escaping, or has 8-bit octets goes as a literal (Dovecot's rule).
 */
export function imapStringForHumans(value: string | null): string {
  if (value === null) return 'NIL';
  let modify = false;
  let escapes = 0;
  let lastSpace = true;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\r' || c === '\n' || c === '\t' || c === ' ') {
      if (c !== ' ' || lastSpace) modify = true;
      lastSpace = true;
    } else {
      if (c === '"' || c === '\\' || c.charCodeAt(0) >= 0x80) escapes++;
      lastSpace = false;
    }
  }
  if (lastSpace && value.length > 0) modify = true;
  if (!modify) return escapes === 0 ? `"${value}"` : literal(value);
  const collapsed = value.replace(/[\r\n\t ]+/g, ' ').trim();
  if (collapsed === '') return '""';
  return literal(collapsed);
}

function addressList(list: EnvelopeAddress[] | null): string {
  if (list === null || list.length === 0) return 'NIL';
  return `(${list.map((a) => `(${imapStringForHumans(a.name)} ${nolf(a.adl)} ${nolf(a.mailbox)} ${nolf(a.host)})`).join('')})`;
}

export function formatEnvelope(envelope: Envelope): string {
  return `(${[
    nolf(envelope.date),
    imapStringForHumans(envelope.subject),
    addressList(envelope.from),
    addressList(envelope.sender),
    addressList(envelope.replyTo),
    addressList(envelope.to),
    addressList(envelope.cc),
    addressList(envelope.bcc),
    nolf(envelope.inReplyTo),
    nolf(envelope.messageId),
  ].join(' ')})`;
}

function params(list: Array<[string, string]>): string {
  if (list.length === 0) return 'NIL';
  return `(${list.map(([k, v]) => `${imapNString(k)} ${imapNString(v)}`).join(' ')})`;
}

function extension(tree: BodyStructure): string {
  const disposition = tree.disposition ? `(${imapNString(tree.disposition.type)} ${params(tree.disposition.params)})` : 'NIL';
  const language = tree.language ? `(${tree.language.map(imapNString).join(' ')})` : 'NIL';
  return `${disposition} ${language} ${nolf(tree.location)}`;
}

/** BODY (extended = false) or BODYSTRUCTURE (extended = true) of a stored body structure tree. */
export function formatBodyStructure(tree: BodyStructure, extended: boolean): string {
  if (tree.kind === 'multipart') {
    const children = tree.children.map((c) => formatBodyStructure(c, extended)).join('');
    const ext = extended ? ` ${params(tree.params)} ${extension(tree)}` : '';
    return `(${children} ${imapNString(tree.subtype)}${ext})`;
  }
  const fields = [
    imapNString(tree.type),
    imapNString(tree.subtype),
    params(tree.params),
    nolf(tree.id),
    nolf(tree.description),
    imapNString(tree.encoding),
    String(tree.size),
  ];
  if (tree.message) {
    fields.push(formatEnvelope(tree.message.envelope), formatBodyStructure(tree.message.body, extended), String(tree.lines ?? 0));
  } else if (tree.lines !== null) {
    fields.push(String(tree.lines));
  }
  if (extended) fields.push(nolf(tree.md5), extension(tree));
  return `(${fields.join(' ')})`;
}
