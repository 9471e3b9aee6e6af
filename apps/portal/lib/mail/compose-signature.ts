/**
 * Signatures in the plain-text compose: the identity's default one is put in when a message is started, and swapped
 * when the sender or the chosen signature changes, as long as the inserted block is still there unchanged (text the
 * user edited is never rewritten; a new block is added instead).
 */
import type { Identity, IdentitySignature } from './jmap-browser';

const block = (signature: string): string => (signature ? `\n\n${signature}` : '');

/** The default signature's text of an identity ('' when none). */
export function defaultSignature(identity: Identity | undefined): string {
  return identity?.signatures?.find((s) => s.isDefault)?.textSignature ?? identity?.textSignature ?? '';
}

export function signaturesOf(identity: Identity | undefined): IdentitySignature[] {
  return identity?.signatures ?? [];
}

/** A new message's text: the signature first, then what the message starts with (a quote or a forwarded message). */
export function withSignature(seedText: string, signature: string): string {
  return `${block(signature)}${seedText}`;
}

/** Replaces the inserted block by the next one; without it, adds the next one before the quoted part or at the end. */
export function swapSignature(text: string, inserted: string, next: string, seedText: string): string {
  if (inserted === next) return text;
  const old = block(inserted);
  if (old && text.includes(old)) return text.replace(old, () => block(next));
  if (!next) return text;
  const at = seedText ? text.lastIndexOf(seedText) : -1;
  return at >= 0 ? `${text.slice(0, at)}${block(next)}${text.slice(at)}` : `${text}${block(next)}`;
}
