/**
 * Registration codes: an operator's signed promise binding one domain and maximum counts of
 * domains and mailboxes. Format: `DIZI1-` + base64url(canonical JSON payload) + `.` +
 * base64url(Ed25519 signature over exactly those payload bytes). Pure; keys come from the caller.
 */
import { KeyObject, sign, verify } from 'node:crypto';
import { normaliseDomainName } from '@dizi/domain/domain-name';

export const REGISTRATION_CODE_PREFIX = 'DIZI1-';

export interface RegistrationPayload {
  v: 1;
  id: string;
  /** ASCII (punycode) lower-case domain name. */
  domain: string;
  maxDomains: number;
  maxMailboxes: number;
  /** ISO 8601. */
  issuedAt: string;
  /** ISO 8601; absent: the code never expires. */
  expiresAt?: string;
}

export type InvalidRegistrationCodeReason = 'malformed' | 'bad_signature' | 'expired' | 'wrong_version';

export class InvalidRegistrationCodeError extends Error {
  constructor(
    readonly reason: InvalidRegistrationCodeReason,
    message: string,
  ) {
    super(message);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MAX_COUNT = 100_000_000;

export function signRegistrationCode(payload: RegistrationPayload, privateKey: KeyObject): string {
  const canonical = canonicalPayload({ ...payload, domain: normaliseDomainName(payload.domain).name });
  const problem = payloadProblem(canonical);
  if (problem) throw new Error(`cannot sign a registration code: ${problem}`);
  const bytes = Buffer.from(JSON.stringify(canonical), 'utf8');
  const signature = sign(null, bytes, privateKey);
  return `${REGISTRATION_CODE_PREFIX}${bytes.toString('base64url')}.${signature.toString('base64url')}`;
}

/** Checks format, signature, version and expiry, in that order; throws InvalidRegistrationCodeError. */
export function verifyRegistrationCode(code: string, publicKey: KeyObject, now: Date = new Date()): RegistrationPayload {
  // Pasted codes may arrive wrapped over lines or with spaces around them.
  const compact = code.replace(/\s+/g, '');
  if (!compact.startsWith(REGISTRATION_CODE_PREFIX)) throw malformed(`it does not start with ${REGISTRATION_CODE_PREFIX}`);
  const parts = compact.slice(REGISTRATION_CODE_PREFIX.length).split('.');
  if (parts.length !== 2) throw malformed('it needs exactly one "." between the payload and the signature');
  const bytes = decodeStrict(parts[0], 'payload');
  const signature = decodeStrict(parts[1], 'signature');
  if (signature.length !== 64) throw malformed('the signature has the wrong length');
  if (!verify(null, bytes, publicKey, signature)) {
    throw new InvalidRegistrationCodeError('bad_signature', 'the signature does not match: the code was altered or issued by another installation');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw malformed('the payload is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw malformed('the payload is not an object');
  const v = (parsed as { v?: unknown }).v;
  if (v !== 1) throw new InvalidRegistrationCodeError('wrong_version', `the code has version ${String(v)}; this installation reads version 1`);
  const payload = parsed as RegistrationPayload;
  const problem = payloadProblem(payload);
  if (problem) throw malformed(problem);
  if (payload.expiresAt && Date.parse(payload.expiresAt) <= now.getTime()) {
    throw new InvalidRegistrationCodeError('expired', `the code expired at ${payload.expiresAt}`);
  }
  return canonicalPayload(payload);
}

/** Fixed key order, so the signed bytes are the same whoever builds the payload. */
function canonicalPayload(p: RegistrationPayload): RegistrationPayload {
  return {
    v: p.v,
    id: p.id,
    domain: p.domain,
    maxDomains: p.maxDomains,
    maxMailboxes: p.maxMailboxes,
    issuedAt: p.issuedAt,
    ...(p.expiresAt !== undefined ? { expiresAt: p.expiresAt } : {}),
  };
}

function payloadProblem(p: RegistrationPayload): string | null {
  if (p.v !== 1) return 'the version must be 1';
  if (typeof p.id !== 'string' || !UUID.test(p.id)) return 'the id must be a lower-case UUID';
  if (typeof p.domain !== 'string') return 'the domain is missing';
  try {
    if (normaliseDomainName(p.domain).name !== p.domain) return 'the domain is not in normalised form';
  } catch {
    return 'the domain is not a valid domain name';
  }
  for (const k of ['maxDomains', 'maxMailboxes'] as const) {
    if (!Number.isInteger(p[k]) || p[k] < 1 || p[k] > MAX_COUNT) return `${k} must be a whole number from 1 to ${MAX_COUNT}`;
  }
  if (!isIsoDate(p.issuedAt)) return 'issuedAt must be an ISO 8601 timestamp';
  if (p.expiresAt !== undefined && !isIsoDate(p.expiresAt)) return 'expiresAt must be an ISO 8601 timestamp';
  const extra = Object.keys(p).filter((k) => !['v', 'id', 'domain', 'maxDomains', 'maxMailboxes', 'issuedAt', 'expiresAt'].includes(k));
  if (extra.length) return `unknown field ${extra[0]}`;
  return null;
}

function isIsoDate(s: unknown): s is string {
  return typeof s === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s));
}

/** Only the one canonical spelling decodes: otherwise the unused low bits of the last character could change unnoticed. */
function decodeStrict(text: string, what: string): Buffer {
  if (!BASE64URL.test(text)) throw malformed(`the ${what} is not base64url`);
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw malformed(`the ${what} is not canonical base64url`);
  return bytes;
}

function malformed(why: string): InvalidRegistrationCodeError {
  return new InvalidRegistrationCodeError('malformed', `the registration code is malformed: ${why}`);
}
