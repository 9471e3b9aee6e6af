/**
 * One IMAP connection: its state, the selected folder with the session's own sequence-number ↔ UID map, per-session
 * \Recent, pending change notifications, and the output side of the wire (plain, TLS or DEFLATE-compressed).
 */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { constants as zlibConstants, type DeflateRaw } from 'node:zlib';
import type { Folder, MessageRecord, MessageStore } from '@dizi/mail-store/ports/message-store';
import { FOLDER_DELIMITER, INBOX } from '@dizi/mail-store/ports/message-store';
import type { MailboxEvent, Notifier, Unsubscribe } from '@dizi/mail-store/ports/notifier';
import type { Authenticator } from './authenticator';
import type { SessionState } from './command';
import { bad, no } from './imap-error';
import { decodeMutf7, encodeMutf7 } from './mutf7';
import { InputReader } from './parser/input-reader';
import { formatSequenceSet, type SequenceSet, inRanges, resolveRanges } from './parser/sequence-set';
import type { RecentTracker } from './recent-tracker';
import { flagList, quoteString } from './wire';

export interface ImapSettings {
  /** Announced in the greeting and used by ID. */
  serverName: string;
  maxLineBytes: number;
  maxLiteralBytes: number;
  maxAppendBytes: number;
  maxCommandBytes: number;
  /** Invalid commands before the connection is closed. */
  maxBadCommands: number;
  idleTimeoutMs: number;
  preLoginTimeoutMs: number;
  /** Plain-text LOGIN / AUTHENTICATE before TLS. */
  allowInsecureAuth: boolean;
}

export const DEFAULT_IMAP_SETTINGS: ImapSettings = {
  serverName: 'Dizi',
  maxLineBytes: 64 * 1024,
  maxLiteralBytes: 64 * 1024,
  maxAppendBytes: 64 * 1024 * 1024,
  maxCommandBytes: 65 * 1024 * 1024,
  maxBadCommands: 20,
  idleTimeoutMs: 30 * 60_000,
  preLoginTimeoutMs: 60_000,
  allowInsecureAuth: false,
};

export interface SessionServices {
  store: MessageStore;
  notifier: Notifier;
  authenticator: Authenticator;
  recent: RecentTracker;
  settings: ImapSettings;
  /** Present when STARTTLS is offered. */
  startTls?: (socket: Socket) => Promise<Socket>;
}

export interface SelectedFolder {
  folder: Folder;
  readOnly: boolean;
  /** seq - 1 → UID, as this session last told the client. */
  uids: number[];
  flags: Map<number, string[]>;
  modseqs: Map<number, number>;
  recent: Set<number>;
  /** Highest UID the client has been told about. */
  knownUidNext: number;
  highestModseq: number;
  /** A change notification arrived for this folder since the last sync. */
  dirty: boolean;
  /** Expunged in the store, not yet announced (RFC 3501 §7.4.1). */
  pendingExpunge: Set<number>;
  /** SEARCHRES `$`, as UIDs. */
  savedResult: number[];
}

export type Capability = string;

export class Session {
  state: SessionState = 'not-authenticated';
  mailboxId: string | null = null;
  username: string | null = null;
  selected: SelectedFolder | null = null;
  readonly reader = new InputReader();
  readonly enabled = new Set<string>();
  badCommands = 0;
  secure: boolean;
  compressed = false;
  logoutRequested = false;
  /** While IDLE runs: push updates at once. */
  idling: (() => void) | null = null;
  private out: Writable;
  private deflate: DeflateRaw | null = null;
  private unsubscribe: Unsubscribe | null = null;
  private corked: Buffer[] | null = null;

  constructor(
    public socket: Socket,
    readonly services: SessionServices,
    secure: boolean,
  ) {
    this.secure = secure;
    this.out = socket;
  }

  get store(): MessageStore {
    return this.services.store;
  }

  get settings(): ImapSettings {
    return this.services.settings;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT') || this.enabled.has('IMAP4REV2');
  }

  get condstore(): boolean {
    return this.enabled.has('CONDSTORE') || this.enabled.has('QRESYNC');
  }

  /** A CONDSTORE-enabling command (RFC 7162 §3.1): the first one in a selected mailbox announces HIGHESTMODSEQ. */
  async enableCondstore(): Promise<void> {
    if (this.condstore) return;
    this.enabled.add('CONDSTORE');
    if (this.selected) {
      const folder = await this.store.folderStatus(this.selected.folder.id);
      this.untagged(`OK [HIGHESTMODSEQ ${folder.highestModseq}] Highest`);
    }
  }

  // ------------------------------------------------------------------ output

  write(data: string | Buffer): void {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (this.corked) this.corked.push(buf);
    else this.writeOut(buf);
  }

  untagged(text: string | Buffer): void {
    if (typeof text === 'string') this.write(`* ${text}\r\n`);
    else this.write(Buffer.concat([Buffer.from('* '), text, Buffer.from('\r\n')]));
  }

  /** Gathers writes into one socket write (and one DEFLATE flush) per command. */
  cork(): void {
    if (!this.corked) this.corked = [];
  }

  uncork(): void {
    const pending = this.corked;
    this.corked = null;
    if (pending && pending.length) this.writeOut(Buffer.concat(pending));
  }

  private writeOut(buf: Buffer): void {
    if (this.socket.destroyed) return;
    this.out.write(buf);
    if (this.deflate) this.deflate.flush(zlibConstants.Z_SYNC_FLUSH);
  }

  /** Waits until the socket drained what was written (large FETCH responses). */
  async drained(): Promise<void> {
    if (this.corked) return;
    const out = this.out as Writable & { writableNeedDrain?: boolean };
    if (!out.writableNeedDrain || this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      out.once('drain', done);
      this.socket.once('close', done);
    });
  }

  enableCompression(deflate: DeflateRaw): void {
    this.deflate = deflate;
    this.out = deflate;
    this.compressed = true;
  }

  // ------------------------------------------------------------------ names

  /** Wire name (modified UTF-7 or UTF-8) → store folder name; a trailing delimiter is dropped (`CREATE a/`). */
  folderName(wire: string): string {
    let name = wire;
    if (!this.utf8 || /&/.test(wire)) {
      const decoded = decodeMutf7(wire);
      if (decoded === null) {
        // A well-formed command naming a mailbox that cannot exist: NO, as for any other missing mailbox.
        if (!this.utf8) throw no('Mailbox name is not valid modified UTF-7', 'CANNOT');
      } else name = decoded;
    }
    if (name.length > 1 && name.endsWith(FOLDER_DELIMITER)) name = name.slice(0, -1);
    if (name.toUpperCase() === INBOX) return INBOX;
    if (name.toUpperCase().startsWith(INBOX + FOLDER_DELIMITER)) name = INBOX + name.slice(INBOX.length);
    return name;
  }

  wireName(name: string): string {
    return quoteString(this.utf8 ? name : encodeMutf7(name));
  }

  // ------------------------------------------------------------------ login and notifications

  async authenticated(mailboxId: string, username: string): Promise<void> {
    this.mailboxId = mailboxId;
    this.username = username;
    this.state = 'authenticated';
    this.unsubscribe = await this.services.notifier.subscribe(mailboxId, (event) => this.onEvent(event));
  }

  private onEvent(event: MailboxEvent): void {
    const sel = this.selected;
    if (!sel || event.folderId !== sel.folder.id) return;
    sel.dirty = true;
    this.idling?.();
  }

  async close(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    this.reader.close();
    await unsubscribe?.().catch(() => undefined);
  }

  // ------------------------------------------------------------------ selected folder

  async select(folder: Folder, readOnly: boolean): Promise<SelectedFolder> {
    const records = await this.store.listMessages(folder.id, { withSummary: false });
    const claimedBefore = this.services.recent.claimedUpTo(folder.id);
    const last = records.length ? records[records.length - 1].uid : 0;
    if (!readOnly) this.services.recent.claim(folder.id, last);
    const sel: SelectedFolder = {
      folder,
      readOnly,
      uids: records.map((r) => r.uid),
      flags: new Map(records.map((r) => [r.uid, r.flags])),
      modseqs: new Map(records.map((r) => [r.uid, r.modseq])),
      recent: new Set(records.filter((r) => r.uid > claimedBefore).map((r) => r.uid)),
      knownUidNext: Math.max(folder.uidNext, last + 1),
      highestModseq: folder.highestModseq,
      dirty: false,
      pendingExpunge: new Set(),
      savedResult: [],
    };
    this.selected = sel;
    this.state = 'selected';
    return sel;
  }

  unselect(): void {
    this.selected = null;
    this.state = 'authenticated';
  }

  requireSelected(): SelectedFolder {
    if (!this.selected) throw bad('No mailbox selected');
    return this.selected;
  }

  requireWritable(): SelectedFolder {
    const sel = this.requireSelected();
    if (sel.readOnly) throw no('Mailbox is read-only', 'READ-ONLY');
    return sel;
  }

  flagsOf(uid: number): string[] {
    const sel = this.requireSelected();
    const flags = [...(sel.flags.get(uid) ?? [])];
    if (sel.recent.has(uid)) flags.push('\\Recent');
    return flags;
  }

  /** Sequence numbers or UIDs of the request → UIDs in the session's view, ascending, expunged-pending ones kept. */
  resolveSet(set: SequenceSet, asUid: boolean): number[] {
    const sel = this.requireSelected();
    if (set.saved) return sel.savedResult.filter((u) => sel.uids.includes(u));
    if (asUid) {
      const max = sel.uids.length ? sel.uids[sel.uids.length - 1] : 0;
      const ranges = resolveRanges(set.ranges, max);
      return sel.uids.filter((u) => inRanges(u, ranges));
    }
    const count = sel.uids.length;
    const ranges = resolveRanges(set.ranges, count);
    for (const r of ranges) if (r.to > count || r.from < 1) throw bad('Invalid message sequence number');
    return sel.uids.filter((_, i) => inRanges(i + 1, ranges));
  }

  seqOf(uid: number): number {
    const sel = this.requireSelected();
    return binaryIndexOf(sel.uids, uid) + 1;
  }

  /**
   * Brings the client's view up to date: EXPUNGE (or VANISHED) when allowed, FETCH for flag changes by others,
   * EXISTS and RECENT for new mail.
   */
  async sync(allowExpunge: boolean, force = false): Promise<void> {
    const sel = this.selected;
    if (!sel || (!sel.dirty && !force && (sel.pendingExpunge.size === 0 || !allowExpunge))) return;
    sel.dirty = false;
    const records = await this.store.listMessages(sel.folder.id, { withSummary: false });
    if (this.selected !== sel) return;
    const current = new Map<number, MessageRecord>(records.map((r) => [r.uid, r]));
    for (const uid of sel.uids) if (!current.has(uid)) sel.pendingExpunge.add(uid);

    if (allowExpunge && sel.pendingExpunge.size) {
      const gone = [...sel.pendingExpunge].sort((a, b) => a - b);
      if (this.enabled.has('QRESYNC')) {
        this.untagged(`VANISHED ${formatSequenceSet(gone)}`);
        const goneSet = new Set(gone);
        sel.uids = sel.uids.filter((u) => !goneSet.has(u));
      } else {
        for (const uid of gone.reverse()) {
          const idx = binaryIndexOf(sel.uids, uid);
          if (idx < 0) continue;
          sel.uids.splice(idx, 1);
          this.untagged(`${idx + 1} EXPUNGE`);
        }
      }
      for (const uid of gone) {
        sel.flags.delete(uid);
        sel.modseqs.delete(uid);
        sel.recent.delete(uid);
      }
      sel.pendingExpunge.clear();
    }

    for (const uid of sel.uids) {
      const r = current.get(uid);
      if (!r) continue;
      const before = sel.flags.get(uid);
      const changed = !before || before.length !== r.flags.length || before.some((f, i) => f !== r.flags[i]);
      const modseqChanged = (sel.modseqs.get(uid) ?? 0) < r.modseq;
      sel.modseqs.set(uid, r.modseq);
      if (!changed && !(modseqChanged && this.condstore)) continue;
      if (!changed) continue;
      sel.flags.set(uid, r.flags);
      const parts = [`FLAGS ${flagList(this.flagsOf(uid))}`];
      if (this.enabled.has('QRESYNC') || this.uidInFetch) parts.push(`UID ${uid}`);
      if (this.condstore) parts.push(`MODSEQ (${r.modseq})`);
      this.untagged(`${this.seqOf(uid)} FETCH (${parts.join(' ')})`);
    }

    const added = records.filter((r) => r.uid >= sel.knownUidNext);
    if (added.length) {
      const claimedBefore = sel.readOnly ? this.services.recent.claimedUpTo(sel.folder.id) : this.services.recent.claim(sel.folder.id, added[added.length - 1].uid);
      for (const r of added) {
        sel.uids.push(r.uid);
        sel.flags.set(r.uid, r.flags);
        sel.modseqs.set(r.uid, r.modseq);
        if (r.uid > claimedBefore) sel.recent.add(r.uid);
      }
      sel.knownUidNext = added[added.length - 1].uid + 1;
      this.untagged(`${sel.uids.length} EXISTS`);
      this.untagged(`${sel.recent.size} RECENT`);
    }
    const status = await this.store.folderStatus(sel.folder.id).catch(() => null);
    if (status && this.selected === sel) sel.highestModseq = Math.max(sel.highestModseq, status.highestModseq);
  }

  /** Set while a UID command runs: unsolicited FETCH responses then carry the UID too. */
  uidInFetch = false;
  /** Stops feeding the reader from the current input (STARTTLS and COMPRESS swap it). */
  detachInput: (() => void) | null = null;
  /** Runs once the tagged response is written (STARTTLS and COMPRESS switch the wire there). */
  afterResponse: (() => Promise<void>) | null = null;

  /** Replaces the socket after STARTTLS. */
  replaceSocket(socket: Socket): void {
    this.socket = socket;
    this.out = socket;
    this.secure = true;
  }
}

export function binaryIndexOf(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid];
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
