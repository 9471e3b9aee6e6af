/**
 * One IMAP connection: its state, the selected folder with the session's own sequence-number ↔ UID map, per-session
 * \Recent, pending change notifications, and the output side of the wire (plain, TLS or DEFLATE-compressed).
 * A session keeps no per-message flags: it remembers up to which MODSEQ it told the client everything, and a sync
 * asks the store only for what changed after that.
 */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { constants as zlibConstants, type DeflateRaw } from 'node:zlib';
import type { Folder, FolderView, MessageRecord, MessageStore } from '@dizi/mail-store/ports/message-store';
import { FOLDER_DELIMITER, INBOX } from '@dizi/mail-store/ports/message-store';
import type { MailboxEvent, Notifier, Unsubscribe } from '@dizi/mail-store/ports/notifier';
import type { Authenticator } from './authenticator';
import type { ChangeFeed } from './change-feed';
import type { SessionState } from './command';
import { bad, no } from './imap-error';
import { decodeMutf7, encodeMutf7 } from './mutf7';
import { InputReader } from './parser/input-reader';
import { formatSequenceSet, type SequenceSet, resolveRanges } from './parser/sequence-set';
import type { RecentTracker } from './recent-tracker';
import { UidMap } from './uid-map';
import { flagList, quoteString } from './wire';

/** The flags every folder has; keywords come on top (PERMANENTFLAGS adds \* for new ones). */
export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export interface ImapSettings {
  /** Announced in the greeting and used by ID. */
  serverName: string;
  maxLineBytes: number;
  maxLiteralBytes: number;
  maxAppendBytes: number;
  maxCommandBytes: number;
  /** Before login: largest total of one command's literals; a bigger one is refused unread and the connection closed. */
  maxPreAuthLiteralBytes: number;
  /** Deepest nesting of parentheses in a command. */
  maxListDepth: number;
  /** Largest total of one command's literals held in memory (not APPEND's message, which is streamed). */
  maxHeldLiteralBytes: number;
  /** Most ranges (`1,3:5` is two) in one sequence set. */
  maxSequenceSetRanges: number;
  /** Longest mailbox name CREATE and RENAME accept, in UTF-8 octets (levels included). */
  maxMailboxNameBytes: number;
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
  // Dovecot's imap-login takes a few KB before login; LOGIN and AUTHENTICATE need far less.
  maxPreAuthLiteralBytes: 8 * 1024,
  maxListDepth: 64,
  // Sixteen literals of the 64 KB maxLiteralBytes; one command held up to maxCommandBytes (65 MB) before.
  maxHeldLiteralBytes: 1024 * 1024,
  maxSequenceSetRanges: 10_000,
  // The store itself refuses more than 1024 (libs/mail-store message-rules.ts).
  maxMailboxNameBytes: 512,
  maxBadCommands: 20,
  idleTimeoutMs: 30 * 60_000,
  preLoginTimeoutMs: 60_000,
  allowInsecureAuth: false,
};

export interface SessionServices {
  store: MessageStore;
  notifier: Notifier;
  /** Shared by the sessions of a node: notifications and catch-up queries. */
  changes: ChangeFeed;
  authenticator: Authenticator;
  recent: RecentTracker;
  settings: ImapSettings;
  /** Present when STARTTLS is offered. */
  startTls?: (socket: Socket) => Promise<Socket>;
}

export interface SelectedFolder {
  folder: Folder;
  readOnly: boolean;
  /** Sequence number ↔ UID, as this session last told the client. */
  uids: UidMap;
  /** This session's \Recent messages (RFC 3501 §2.3.2). */
  recent: UidMap;
  /** Above the highest UID the client has been told about. */
  knownUidNext: number;
  /** Every change up to this MODSEQ has been told to the client (expunges possibly still in pendingExpunge). */
  syncedModseq: number;
  /** Highest MODSEQ a change notification announced for this folder. */
  notifiedModseq: number;
  /** A change notification arrived for this folder since the last sync. */
  dirty: boolean;
  /** The next sync must send its own query (after a notifier resync). */
  fresh: boolean;
  /** Expunged in the store, not yet announced (RFC 3501 §7.4.1). */
  pendingExpunge: Set<number>;
  /** Changes newer than syncedModseq already told by this session's own commands (UID → MODSEQ): not repeated. */
  told: Map<number, number>;
  /** SEARCHRES `$`, as UIDs. */
  savedResult: number[];
  /** Keywords the client was told in FLAGS (lower case → as told); a FETCH may show no other (RFC 9051 §7.3.5). */
  keywords: Map<string, string>;
  /**
   * Detailed change events newer than syncedModseq, by the MODSEQ they start from: when they chain unbroken from
   * syncedModseq up to notifiedModseq, a sync applies them instead of asking the store (no query per command under load).
   */
  chain: Map<number, MailboxEvent>;
}

/** Most detailed events a selected folder keeps waiting for a sync; past it they are dropped and the sync queries. */
const MAX_CHAINED_EVENTS = 256;

/** What a sync tells about a message: its flags as of a MODSEQ. */
type MessageChange = Pick<MessageRecord, 'uid' | 'modseq' | 'flags'>;

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
  private watch: Promise<Unsubscribe> | null = null;
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

  private writeOut(data: Buffer | Buffer[]): void {
    if (this.socket.destroyed) return;
    if (Array.isArray(data)) {
      // One vectored write instead of a copy into one buffer (TLS gathers the pieces into its records itself).
      this.out.cork();
      for (const buf of data) this.out.write(buf);
      this.out.uncork();
    } else this.out.write(data);
    if (this.deflate) this.deflate.flush(zlibConstants.Z_SYNC_FLUSH);
  }

  /**
   * Sends what the command wrote so far, keeping the cork for what follows, and waits until the socket takes more:
   * a long FETCH goes out in large writes as it is made instead of all at once with the tagged reply.
   */
  async flush(): Promise<void> {
    const pending = this.corked;
    if (pending?.length) {
      this.corked = [];
      this.writeOut(pending.length === 1 ? pending[0] : pending);
    }
    await this.untilDrained();
  }

  /** Waits until the socket drained what was written (large FETCH responses). */
  async drained(): Promise<void> {
    if (this.corked) return;
    await this.untilDrained();
  }

  private async untilDrained(): Promise<void> {
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

  /** A name CREATE or RENAME is to give a folder: the length limit here, the other rules in the store. */
  checkNewFolderName(name: string): void {
    const max = this.settings.maxMailboxNameBytes;
    if (Buffer.byteLength(name, 'utf8') > max) throw no(`Mailbox name is longer than ${max} octets`, 'CANNOT');
  }

  wireName(name: string): string {
    return quoteString(this.utf8 ? name : encodeMutf7(name));
  }

  // ------------------------------------------------------------------ login and notifications

  async authenticated(mailboxId: string, username: string): Promise<void> {
    this.mailboxId = mailboxId;
    this.username = username;
    this.state = 'authenticated';
    // The subscription is made while the client reads the tagged OK; selecting waits for it (watching()).
    this.watch = this.services.changes.watch(mailboxId, (event) => this.onEvent(event));
    // A failure surfaces at SELECT (watching()); until then it must not count as unhandled.
    this.watch.catch(() => undefined);
  }

  /** Resolves once change notifications for the mailbox are flowing: a folder's view read after it misses none. */
  async watching(): Promise<void> {
    await this.watch;
  }

  private onEvent(event: MailboxEvent): void {
    const sel = this.selected;
    if (sel && event.type === 'resync') {
      // Events may have been lost: read afresh rather than share a query sent before the gap closed.
      sel.dirty = true;
      sel.fresh = true;
      this.idling?.();
      return;
    }
    if (!sel || event.folderId !== sel.folder.id) return;
    // This session's own changes come back too; those it already told need no query.
    if (event.modseq !== null && event.modseq <= sel.syncedModseq) return;
    sel.dirty = true;
    if (event.prevModseq !== undefined && event.modseq !== null && (event.type === 'expunge' || event.flags?.length === event.uids.length)) {
      if (sel.chain.size >= MAX_CHAINED_EVENTS) sel.chain.clear();
      sel.chain.set(event.prevModseq, event);
    }
    if (event.modseq !== null && event.modseq > sel.notifiedModseq) sel.notifiedModseq = event.modseq;
    this.idling?.();
  }

  async close(): Promise<void> {
    const watch = this.watch;
    this.watch = null;
    this.reader.close();
    const unsubscribe = await watch?.catch(() => null);
    await unsubscribe?.().catch(() => undefined);
  }

  // ------------------------------------------------------------------ selected folder

  select(view: FolderView, readOnly: boolean): SelectedFolder {
    const { folder } = view;
    const uids = UidMap.fromRuns(view.uidRuns);
    const claimedBefore = this.services.recent.claimedUpTo(folder.id);
    if (!readOnly) this.services.recent.claim(folder.id, uids.max);
    const sel: SelectedFolder = {
      folder,
      readOnly,
      uids,
      recent: uids.above(claimedBefore),
      knownUidNext: Math.max(folder.uidNext, uids.max + 1),
      syncedModseq: folder.highestModseq,
      notifiedModseq: folder.highestModseq,
      dirty: false,
      fresh: false,
      pendingExpunge: new Set(),
      told: new Map(),
      savedResult: [],
      keywords: new Map(),
      chain: new Map(),
    };
    for (const k of view.keywords) if (!sel.keywords.has(k.toLowerCase())) sel.keywords.set(k.toLowerCase(), k);
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

  /** RFC 9051 removed \Recent and the RECENT response: a session that enabled IMAP4rev2 is told neither. */
  get showsRecent(): boolean {
    return !this.enabled.has('IMAP4REV2');
  }

  /**
   * A message's stored flags as this session shows them (with \Recent when the session holds it), to be written in a
   * FETCH response next: a keyword the client has not been told of yet is announced first, with FLAGS and
   * PERMANENTFLAGS, whoever added it (RFC 9051 §7.3.5, §7.5.2).
   */
  flagsOf(uid: number, stored: readonly string[]): string[] {
    const sel = this.requireSelected();
    this.announceKeywords(sel, stored);
    return this.showsRecent && sel.recent.has(uid) ? [...stored, '\\Recent'] : [...stored];
  }

  /** FLAGS and PERMANENTFLAGS of the selected folder: the system flags and every keyword told so far. */
  announceFlags(sel: SelectedFolder): void {
    const flags = [...SYSTEM_FLAGS, ...sel.keywords.values()];
    this.untagged(`FLAGS ${flagList(flags)}`);
    this.untagged(`OK [PERMANENTFLAGS ${flagList(sel.readOnly ? [] : [...flags, '\\*'])}] Flags permitted`);
  }

  /** Announces the keywords among `flags` the client has not been told of (a FETCH showing them follows). */
  announceKeywords(sel: SelectedFolder, flags: readonly string[]): void {
    let grown = false;
    for (const f of flags) {
      if (f.startsWith('\\')) continue;
      const key = f.toLowerCase();
      if (sel.keywords.has(key)) continue;
      sel.keywords.set(key, f);
      grown = true;
    }
    if (grown) this.announceFlags(sel);
  }

  /**
   * This session's own command changed `changes` (every message its transaction at `modseq` changed) and told the
   * client: the next sync does not tell them again. When nothing else happened in between (the transaction's MODSEQ
   * is the session's plus one), the session is simply up to date at `modseq`.
   */
  ownChanges(changes: ReadonlyArray<{ uid: number; modseq: number }>, modseq: number): void {
    const sel = this.selected;
    if (!sel || changes.length === 0) return;
    if (modseq === sel.syncedModseq + 1) sel.syncedModseq = modseq;
    else for (const c of changes) this.told(c.uid, c.modseq);
  }

  /** The client was shown a message's flags as of `modseq` (FETCH FLAGS): the next sync does not repeat them. */
  told(uid: number, modseq: number): void {
    const sel = this.selected;
    if (!sel || modseq <= sel.syncedModseq) return;
    if (modseq > (sel.told.get(uid) ?? 0)) sel.told.set(uid, modseq);
  }

  /** This session expunged (or moved away) messages at `modseq`: announced at the next sync without a query. */
  ownExpunge(uids: readonly number[], modseq: number): void {
    const sel = this.selected;
    if (!sel) return;
    for (const u of uids) if (sel.uids.has(u)) sel.pendingExpunge.add(u);
    if (uids.length && modseq === sel.syncedModseq + 1) sel.syncedModseq = modseq;
  }

  /** Sequence numbers or UIDs of the request → UIDs in the session's view, ascending, expunged-pending ones kept. */
  resolveSet(set: SequenceSet, asUid: boolean): number[] {
    const sel = this.requireSelected();
    if (set.saved) return sel.savedResult.filter((u) => sel.uids.has(u));
    if (asUid) return sel.uids.inUidRanges(resolveRanges(set.ranges, sel.uids.max));
    const count = sel.uids.count;
    const ranges = resolveRanges(set.ranges, count);
    for (const r of ranges) if (r.to > count || r.from < 1) throw bad('Invalid message sequence number');
    return sel.uids.atSeqRanges(ranges);
  }

  seqOf(uid: number): number {
    return this.requireSelected().uids.seqOf(uid);
  }

  /**
   * Brings the client's view up to date: EXPUNGE (or VANISHED) when allowed, FETCH for flag changes by others,
   * EXISTS and RECENT for new mail. The store is asked only when a notification came (or `force`: NOOP, CHECK), and
   * only for what changed after the session's MODSEQ.
   */
  async sync(allowExpunge: boolean, force = false): Promise<void> {
    const sel = this.selected;
    if (!sel) return;
    let changed: MessageChange[] = [];
    const local = sel.dirty && !force && !sel.fresh ? this.changesFromEvents(sel) : null;
    if (local) {
      sel.dirty = false;
      for (const uid of local.vanished) if (sel.uids.has(uid)) sel.pendingExpunge.add(uid);
      changed = local.changed;
      sel.syncedModseq = local.highestModseq;
      for (const [uid, modseq] of sel.told) if (modseq <= sel.syncedModseq) sel.told.delete(uid);
      this.pruneChain(sel);
    } else if (sel.dirty || force) {
      sel.dirty = false;
      const since = sel.syncedModseq;
      // Only IDLE pushes share a query under way (their dirt comes from notifications alone): after a command of its
      // own, a session asks afresh so that its client sees its own COPY or APPEND at once.
      const mustSee = this.idling && !force && !sel.fresh ? sel.notifiedModseq : null;
      sel.fresh = false;
      const changes = await this.services.changes.changesSince(sel.folder.mailboxId, sel.folder.id, since, mustSee);
      if (this.selected !== sel) return;
      for (const uid of changes.vanished) if (sel.uids.has(uid)) sel.pendingExpunge.add(uid);
      changed = changes.changed;
      if (changes.highestModseq > sel.syncedModseq) sel.syncedModseq = changes.highestModseq;
      for (const [uid, modseq] of sel.told) if (modseq <= sel.syncedModseq) sel.told.delete(uid);
      this.pruneChain(sel);
    }

    if (allowExpunge && sel.pendingExpunge.size) this.announceExpunges(sel);

    const added: MessageChange[] = [];
    for (const r of changed) {
      if (r.uid >= sel.knownUidNext) {
        added.push(r);
        continue;
      }
      if (!sel.uids.has(r.uid) || sel.pendingExpunge.has(r.uid)) continue;
      const told = sel.told.get(r.uid);
      if (told !== undefined && told >= r.modseq) continue;
      const parts = [`FLAGS ${flagList(this.flagsOf(r.uid, r.flags))}`];
      if (this.enabled.has('QRESYNC') || this.uidInFetch) parts.push(`UID ${r.uid}`);
      if (this.condstore) parts.push(`MODSEQ (${r.modseq})`);
      this.untagged(`${sel.uids.seqOf(r.uid)} FETCH (${parts.join(' ')})`);
    }

    if (added.length) {
      // New messages may bring keywords the client has not seen: told with their EXISTS, before any FETCH of them.
      for (const r of added) this.announceKeywords(sel, r.flags);
      const last = added[added.length - 1].uid;
      const claimedBefore = sel.readOnly ? this.services.recent.claimedUpTo(sel.folder.id) : this.services.recent.claim(sel.folder.id, last);
      for (const r of added) {
        sel.uids.append(r.uid);
        if (r.uid > claimedBefore) sel.recent.append(r.uid);
      }
      sel.knownUidNext = last + 1;
      this.untagged(`${sel.uids.count} EXISTS`);
      if (this.showsRecent) this.untagged(`${sel.recent.count} RECENT`);
    }
  }

  /**
   * The changes since syncedModseq from the chained events alone, as the store would answer them (each UID once, with
   * its latest flags, ascending; expunged ones only as vanished), or null when the chain does not reach every MODSEQ a
   * notification announced.
   */
  private changesFromEvents(sel: SelectedFolder): { changed: MessageChange[]; vanished: number[]; highestModseq: number } | null {
    let at = sel.syncedModseq;
    // Every change notified is already told (the session's own, whose notification came before its command ended).
    if (sel.notifiedModseq <= at) return { changed: [], vanished: [], highestModseq: at };
    const latest = new Map<number, MessageChange>();
    const vanished: number[] = [];
    for (let e = sel.chain.get(at); e; e = sel.chain.get(at)) {
      const modseq = e.modseq!;
      if (e.type === 'expunge') {
        for (const uid of e.uids) {
          latest.delete(uid);
          vanished.push(uid);
        }
      } else {
        for (let i = 0; i < e.uids.length; i++) latest.set(e.uids[i], { uid: e.uids[i], modseq, flags: e.flags![i] });
      }
      at = modseq;
    }
    if (at === sel.syncedModseq || at < sel.notifiedModseq) return null;
    return { changed: [...latest.values()].sort((a, b) => a.uid - b.uid), vanished, highestModseq: at };
  }

  private pruneChain(sel: SelectedFolder): void {
    for (const prev of sel.chain.keys()) if (prev < sel.syncedModseq) sel.chain.delete(prev);
  }

  private announceExpunges(sel: SelectedFolder): void {
    const gone = [...sel.pendingExpunge].sort((a, b) => a - b);
    sel.pendingExpunge.clear();
    if (this.enabled.has('QRESYNC')) {
      this.untagged(`VANISHED ${formatSequenceSet(gone)}`);
    } else {
      // Highest first: each EXPUNGE then leaves the sequence numbers of the ones still to come unchanged.
      const seqs = gone.map((uid) => sel.uids.seqOf(uid));
      for (let i = seqs.length - 1; i >= 0; i--) if (seqs[i] > 0) this.untagged(`${seqs[i]} EXPUNGE`);
    }
    sel.uids.removeAll(gone);
    sel.recent.removeAll(gone);
    for (const uid of gone) sel.told.delete(uid);
  }

  /** A command gave up on an overlong line before its end: the server drops the rest once the answer is out. */
  restOfLinePending = false;
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

