/**
 * The mailbox CSV format shared by import and export: one mailbox per line,
 * `address, display name, quota, password or hash`, an optional header row.
 */
import { normaliseImportedHash, UnsupportedHashError } from '@dizi/auth/password-hash';
import { InvalidAddressError, normaliseLocalPart, parseAddress } from '@dizi/domain/address';

export const CSV_HEADER = ['address', 'display name', 'quota', 'password'];
export const MIN_PASSWORD_LENGTH = 8;

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `1073741824`, `1G`, `512M`, `1.5 GiB`, `100KB`: bytes, or K/M/G/T (powers of 1024); null when unreadable. */
export function parseQuota(text: string): number | null {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:I?B)?$/i.exec(text.trim());
  if (!match) return null;
  const bytes = Math.round(Number(match[1]) * UNITS[match[2].toUpperCase()]);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** The first record is a header when it names no address and its quota column is not a quota. */
export function isHeader(record: string[]): boolean {
  return !(record[0] ?? '').includes('@') && record.length >= 3 && parseQuota(record[2] ?? '') === null && (record[2] ?? '').trim() !== '';
}

/** A hash from another system (`{SCHEME}…` or a bare `$6$…` crypt string) rather than a password in clear. */
export function looksLikeHash(secret: string): boolean {
  return /^\{[A-Za-z0-9._-]+\}/.test(secret) || /^\$(1|2[abxy]?|5|6|argon2(id|i|d)?)\$/.test(secret);
}

export interface ImportTarget {
  domainName: string;
  defaultQuotaBytes: number;
  maxQuotaBytes: number | null;
  /** Rows of other domains are moved into this one, keeping their local part. */
  rehome: boolean;
}

export type ParsedRow =
  | { ok: true; address: string; localPart: string; displayName: string; quotaBytes: number; hash?: string; password?: string }
  | { ok: false; address: string; reason: string };

/**
 * CSV (formula) injection: a spreadsheet runs a cell starting with = + - @ (or a tab or CR) as a
 * formula. The export prefixes such a cell with ', which spreadsheets show as text, and the import
 * takes that ' off again, so an exported file still imports as it was.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
export const neutraliseCell = (value: string): string => (FORMULA_START.test(value) ? `'${value}` : value);
const restoreCell = (value: string): string => (value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value);

/** One CSV record checked against the target domain; the password is not hashed yet (that is the slow part). */
export function parseRow(record: string[], target: ImportTarget): ParsedRow {
  const [quotedAddress = '', quotedName = '', rawQuota = '', secret = ''] = record;
  const rawAddress = restoreCell(quotedAddress);
  const rawName = restoreCell(quotedName);
  const given = rawAddress.trim();
  if (record.length > 4) return { ok: false, address: given, reason: `the line has ${record.length} columns; expected 4: address, display name, quota, password` };
  let localPart: string;
  let domain: string;
  try {
    if (given.includes('@')) {
      const parsed = parseAddress(given);
      localPart = parsed.localPart;
      domain = parsed.domain;
    } else {
      localPart = normaliseLocalPart(given);
      domain = target.domainName;
    }
  } catch (e) {
    if (e instanceof InvalidAddressError) return { ok: false, address: given, reason: `address: ${e.reason}` };
    throw e;
  }
  if (domain !== target.domainName && !target.rehome) {
    return { ok: false, address: given, reason: `address: it is not in ${target.domainName} (import with rehome=true to move it into this domain)` };
  }
  const address = `${localPart}@${target.domainName}`;
  const displayName = rawName.trim();
  if (displayName.length > 200) return { ok: false, address, reason: 'display name: longer than 200 characters' };
  let quotaBytes = target.defaultQuotaBytes;
  if (rawQuota.trim()) {
    const parsed = parseQuota(rawQuota);
    if (parsed === null) return { ok: false, address, reason: `quota: "${rawQuota.trim()}" is not a size; write bytes or a number with K, M or G` };
    quotaBytes = parsed;
  }
  if (target.maxQuotaBytes !== null && quotaBytes > target.maxQuotaBytes) {
    return { ok: false, address, reason: `quota: ${quotaBytes} bytes is over the domain's maximum of ${target.maxQuotaBytes} bytes per mailbox` };
  }
  if (!secret) return { ok: false, address, reason: `password: empty; give a password of at least ${MIN_PASSWORD_LENGTH} characters or a password hash` };
  if (looksLikeHash(secret)) {
    try {
      return { ok: true, address, localPart, displayName, quotaBytes, hash: normaliseImportedHash(secret) };
    } catch (e) {
      if (e instanceof UnsupportedHashError) return { ok: false, address, reason: `password: ${e.reason}` };
      throw e;
    }
  }
  if (secret.length < MIN_PASSWORD_LENGTH) return { ok: false, address, reason: `password: shorter than ${MIN_PASSWORD_LENGTH} characters` };
  if (secret.length > 1024) return { ok: false, address, reason: 'password: longer than 1024 characters' };
  return { ok: true, address, localPart, displayName, quotaBytes, password: secret };
}
