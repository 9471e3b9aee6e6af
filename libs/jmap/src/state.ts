/**
 * JMAP state strings derived from the store's per-folder MODSEQs, never kept apart: a state lists each folder's
 * HIGHESTMODSEQ (and UIDNEXT, to tell new messages from old ones), so /changes asks the store for what each folder
 * changed since then (the same tombstones QRESYNC reads). Opaque to clients: base64url of a compact JSON.
 */
import { createHash } from 'node:crypto';
import type { Folder } from '@dizi/mail-store/ports/message-store';

export interface FolderMark {
  folderId: string;
  modseq: number;
  uidNext: number;
  /** Messages in the folder then: a folder destroyed since is no loss to report when it was empty. */
  count: number;
}

export function emailState(folders: readonly Folder[]): string {
  return encode('e', folders.map((f) => [compactId(f.id), f.highestModseq, f.uidNext, f.messageCount]));
}

export function emailStateOf(marks: readonly FolderMark[]): string {
  return encode('e', marks.map((m) => [compactId(m.folderId), m.modseq, m.uidNext, m.count]));
}

/** null when the string is not an email state of this server. */
export function parseEmailState(state: string): FolderMark[] | null {
  const items = decode('e', state);
  if (!items) return null;
  const out: FolderMark[] = [];
  for (const item of items) {
    if (!Array.isArray(item) || item.length !== 4 || typeof item[0] !== 'string' || !isCount(item[1]) || !isCount(item[2]) || !isCount(item[3])) return null;
    const folderId = expandId(item[0]);
    if (!folderId) return null;
    out.push({ folderId, modseq: item[1], uidNext: item[2], count: item[3] });
  }
  return out;
}

export interface MailboxMark {
  folderId: string;
  /** Of name, parent, role, subscription. */
  meta: string;
  /** Of the message and unread counts. */
  counts: string;
}

export function mailboxMarks(folders: readonly Folder[]): MailboxMark[] {
  return folders.map((f) => ({
    folderId: f.id,
    meta: digest(`${f.name}\0${f.specialUse ?? ''}\0${f.subscribed}`),
    counts: digest(`${f.messageCount}\0${f.unseenCount}`),
  }));
}

export function mailboxState(marks: readonly MailboxMark[]): string {
  return encode('m', marks.map((m) => [compactId(m.folderId), m.meta, m.counts]));
}

export function parseMailboxState(state: string): MailboxMark[] | null {
  const items = decode('m', state);
  if (!items) return null;
  const out: MailboxMark[] = [];
  for (const item of items) {
    if (!Array.isArray(item) || item.length !== 3 || item.some((x) => typeof x !== 'string')) return null;
    const folderId = expandId(item[0]);
    if (!folderId) return null;
    out.push({ folderId, meta: item[1], counts: item[2] });
  }
  return out;
}

function encode(kind: string, items: unknown[]): string {
  return kind + Buffer.from(JSON.stringify(items)).toString('base64url');
}

function decode(kind: string, state: string): unknown[] | null {
  if (!state.startsWith(kind) || !/^[A-Za-z0-9_-]*$/.test(state.slice(1))) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(state.slice(1), 'base64url').toString('utf8'));
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 8);
}

function compactId(uuid: string): string {
  return uuid.replace(/-/g, '');
}

function expandId(hex: string): string | null {
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
