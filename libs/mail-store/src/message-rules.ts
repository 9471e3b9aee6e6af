/** Rules every MessageStore adapter applies the same way: folder names, flags, UID ranges, search tokens. */
import { FOLDER_DELIMITER, INBOX, InvalidFolderNameError, type NumberRange } from './ports/message-store';

const MAX_FOLDER_NAME_BYTES = 1024;
const MAX_SEGMENT_CHARS = 255;
// Control characters break the wire protocols; `*` and `%` are IMAP LIST wildcards.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f*%]/;

/** Validates a full folder path and spells INBOX (the first segment, any case) canonically. */
export function normalizeFolderName(name: string): string {
  if (name.length === 0) throw new InvalidFolderNameError(name, 'the name is empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_FOLDER_NAME_BYTES) throw new InvalidFolderNameError(name, `longer than ${MAX_FOLDER_NAME_BYTES} bytes`);
  if (FORBIDDEN_IN_NAME.test(name)) throw new InvalidFolderNameError(name, 'control characters, "*" and "%" are not allowed');
  const segments = name.split(FOLDER_DELIMITER);
  if (segments.some((s) => s.length === 0)) throw new InvalidFolderNameError(name, `empty level (leading, trailing or double "${FOLDER_DELIMITER}")`);
  if (segments.some((s) => s.length > MAX_SEGMENT_CHARS)) throw new InvalidFolderNameError(name, `a level is longer than ${MAX_SEGMENT_CHARS} characters`);
  // Synchronising clients (mbsync, offlineimap) turn folder names into local paths: `.`, `..` and a leading `~` would
  // point outside the user's mail directory there.
  if (segments.some((s) => s === '.' || s === '..')) throw new InvalidFolderNameError(name, 'a level is "." or ".."');
  if (name.startsWith('~')) throw new InvalidFolderNameError(name, 'the name starts with "~"');
  if (segments[0].toUpperCase() === INBOX) segments[0] = INBOX;
  return segments.join(FOLDER_DELIMITER);
}

/** `a/b/c` → [`a`, `a/b`]. */
export function parentNames(name: string): string[] {
  const segments = name.split(FOLDER_DELIMITER);
  return segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join(FOLDER_DELIMITER));
}

export function isSameOrChild(name: string, ancestor: string): boolean {
  return name === ancestor || name.startsWith(ancestor + FOLDER_DELIMITER);
}

const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];
const SYSTEM_BY_LOWER = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));
export const SEEN = '\\Seen';
export const DELETED = '\\Deleted';

/** System flags spelled canonically, keywords kept, duplicates (case-insensitive) and \Recent (per session) dropped. */
export function normalizeFlags(flags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of flags) {
    const lower = raw.toLowerCase();
    if (raw.length === 0 || lower === '\\recent' || seen.has(lower)) continue;
    seen.add(lower);
    out.push(SYSTEM_BY_LOWER.get(lower) ?? raw);
  }
  return out;
}

export function applyFlagMode(current: readonly string[], mode: 'add' | 'remove' | 'replace', flags: readonly string[]): string[] {
  if (mode === 'replace') return normalizeFlags(flags);
  if (mode === 'add') return normalizeFlags([...current, ...flags]);
  const removed = new Set(flags.map((f) => f.toLowerCase()));
  return current.filter((f) => !removed.has(f.toLowerCase()));
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => set.has(f.toLowerCase()));
}

export function hasFlag(flags: readonly string[], flag: string): boolean {
  const lower = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === lower);
}

const MAX_UID = 2 ** 31 - 1;

/** Ranges ordered low..high (IMAP allows `5:1`), clamped to the UID column's range. */
export function normalizeRanges(ranges: readonly NumberRange[]): NumberRange[] {
  return ranges
    .map((r) => ({ from: Math.max(1, Math.min(r.from, r.to)), to: Math.min(MAX_UID, Math.max(r.from, r.to)) }))
    .filter((r) => r.from <= r.to);
}

export function inRanges(n: number, ranges: readonly NumberRange[]): boolean {
  return ranges.some((r) => n >= r.from && n <= r.to);
}

/** Served size: the header prefix is stored as text and served as UTF-8. */
export function servedSize(headerPrefix: string, blobSize: number): number {
  return Buffer.byteLength(headerPrefix, 'utf8') + blobSize;
}
