/**
 * Identities (RFC 8621 §6): the addresses a user may send as, from the directory the submission checks use (own
 * address, aliases delivering to the mailbox, send-as grants). Operators and domain admins grant them; the user keeps
 * a profile per address (display name, replyTo, bcc, up to three signatures with one default) through Identity/set.
 * An Identity id is the address itself, base64url-encoded, so it stays the same while the grant does.
 */
import { createHash } from 'node:crypto';

export interface SenderIdentity {
  address: string;
  /** Display name ('' when none). */
  name: string;
  kind: 'mailbox' | 'alias' | 'send-as';
}

export interface IdentityAddress {
  name: string | null;
  email: string;
}

/** One of an identity's signatures; the default one is the JMAP textSignature/htmlSignature. */
export interface IdentitySignature {
  name: string;
  textSignature: string;
  htmlSignature: string;
  isDefault: boolean;
}

/** What the user changed of an identity; `name` null keeps the directory's display name. */
export interface IdentityProfile {
  name: string | null;
  replyTo: IdentityAddress[] | null;
  bcc: IdentityAddress[] | null;
  signatures: IdentitySignature[];
}

export const MAX_SIGNATURES = 3;
export const MAX_SIGNATURE_LENGTH = 20_000;

export interface JmapIdentities {
  list(mailboxId: string): Promise<SenderIdentity[]>;
  /** Profiles by address; absent when the server keeps none (then Identity/set refuses updates). */
  profiles?(mailboxId: string): Promise<Map<string, IdentityProfile>>;
  saveProfile?(mailboxId: string, address: string, profile: IdentityProfile): Promise<void>;
}

export const emptyProfile = (): IdentityProfile => ({ name: null, replyTo: null, bcc: null, signatures: [] });

export const identityIdOf = (address: string): string => `I${Buffer.from(address, 'utf8').toString('base64url')}`;

export function addressOfIdentity(id: string): string | null {
  if (!/^I[A-Za-z0-9_-]{1,340}$/.test(id)) return null;
  return Buffer.from(id.slice(1), 'base64url').toString('utf8');
}

export function toIdentity(identity: SenderIdentity, profile: IdentityProfile = emptyProfile()): Record<string, unknown> {
  const chosen = profile.signatures.find((s) => s.isDefault);
  return {
    id: identityIdOf(identity.address),
    name: profile.name ?? identity.name,
    email: identity.address,
    replyTo: addresses(profile.replyTo),
    bcc: addresses(profile.bcc),
    textSignature: chosen?.textSignature ?? '',
    htmlSignature: chosen?.htmlSignature ?? '',
    // Addresses come from the directory: removing one is an administrator's act, not the user's.
    mayDelete: false,
    signatures: profile.signatures.map((s) => ({ name: s.name, textSignature: s.textSignature, htmlSignature: s.htmlSignature, isDefault: s.isDefault })),
  };
}

// Rebuilt in one key order: a store may hand objects back with their keys reordered (PostgreSQL's jsonb does), and
// the state digests the JSON text.
const addresses = (list: IdentityAddress[] | null): IdentityAddress[] | null => list?.map((a) => ({ name: a.name, email: a.email })) ?? null;

/** `signatures` is Dizi's extension: the up to three signatures, the one with isDefault being text/htmlSignature. */
export const IDENTITY_PROPERTIES: readonly string[] = ['id', 'name', 'email', 'replyTo', 'bcc', 'textSignature', 'htmlSignature', 'mayDelete', 'signatures'];

/** `i` + base64url of [[id, digest]…]: Identity/changes compares two of them. */
export function identityState(identities: readonly SenderIdentity[], profiles: ReadonlyMap<string, IdentityProfile> = new Map()): string {
  const items = identities.map((i) => [identityIdOf(i.address), digest(JSON.stringify(toIdentity(i, profiles.get(i.address))))]);
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
