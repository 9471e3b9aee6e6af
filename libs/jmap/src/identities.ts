/**
 * Identities (RFC 8621 §6): the addresses a user may send as, from the directory the submission checks use (own
 * address, aliases delivering to the mailbox, send-as grants). Operators and domain admins manage them; JMAP only
 * reads them. An Identity id is the address itself, base64url-encoded, so it stays the same while the grant does.
 */
import { createHash } from 'node:crypto';

export interface SenderIdentity {
  address: string;
  /** Display name ('' when none). */
  name: string;
  kind: 'mailbox' | 'alias' | 'send-as';
}

export interface JmapIdentities {
  list(mailboxId: string): Promise<SenderIdentity[]>;
}

export const identityIdOf = (address: string): string => `I${Buffer.from(address, 'utf8').toString('base64url')}`;

export function addressOfIdentity(id: string): string | null {
  if (!/^I[A-Za-z0-9_-]{1,340}$/.test(id)) return null;
  return Buffer.from(id.slice(1), 'base64url').toString('utf8');
}

export function toIdentity(identity: SenderIdentity): Record<string, unknown> {
  return {
    id: identityIdOf(identity.address),
    name: identity.name,
    email: identity.address,
    replyTo: null,
    bcc: null,
    textSignature: '',
    htmlSignature: '',
    mayDelete: false,
  };
}

export const IDENTITY_PROPERTIES: readonly string[] = ['id', 'name', 'email', 'replyTo', 'bcc', 'textSignature', 'htmlSignature', 'mayDelete'];

/** `i` + base64url of [[id, digest]…]: Identity/changes compares two of them. */
export function identityState(identities: readonly SenderIdentity[]): string {
  const items = identities.map((i) => [identityIdOf(i.address), digest(JSON.stringify(toIdentity(i)))]);
  return `i${Buffer.from(JSON.stringify(items)).toString('base64url')}`;
}

export function parseIdentityState(state: string): Map<string, string> | null {
  if (!state.startsWith('i') || !/^[A-Za-z0-9_-]*$/.test(state.slice(1))) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(state.slice(1), 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.some((x) => !Array.isArray(x) || x.length !== 2 || typeof x[0] !== 'string' || typeof x[1] !== 'string')) return null;
    return new Map(v as Array<[string, string]>);
  } catch {
    return null;
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 8);
}
