/**
 * One POP3 connection: its state (RFC 1939 AUTHORIZATION → TRANSACTION → UPDATE), the mailbox lease, the
 * maildrop snapshot, and the output side of the wire (plain or TLS).
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { BlobNotFoundError } from '@dizi/mail-store/ports/blob-store';
import { INBOX, MessageNotFoundError, type MessageRecord, type MessageStore, type NumberRange } from '@dizi/mail-store/ports/message-store';
import type { Authenticator } from './authenticator';
import { DotStuffer } from './dot-stuffer';
import { LineReader } from './line-reader';
import type { MailboxLease, MailboxLock } from './mailbox-lock';
import { Maildrop, type MaildropMessage } from './maildrop';
import { refuse } from './pop3-error';
import type { Pop3Settings } from './settings';

/** Messages whose header prefixes RETR/TOP list in one query. */
const SOURCE_BATCH = 200;

export type SessionState = 'authorization' | 'transaction' | 'update';

export interface SessionServices {
  store: MessageStore;
  authenticator: Authenticator;
  lock: MailboxLock;
  settings: Pop3Settings;
  /** Present when STLS is offered. */
  startTls?: (socket: Socket) => Promise<Socket>;
}

export class Session {
  state: SessionState = 'authorization';
  mailboxId: string | null = null;
  username: string | null = null;
  /** Name given by USER, waiting for PASS. */
  pendingUser: string | null = null;
  maildrop: Maildrop | null = null;
  badCommands = 0;
  authFailures = 0;
  quitRequested = false;
  /** Runs after the response is written (STLS switches the socket there). */
  afterResponse: (() => Promise<void>) | null = null;
  /** Detaches the reader from the current byte source. */
  detachInput: (() => void) | null = null;
  readonly reader: LineReader;
  private lease: MailboxLease | null = null;
  /** The next message's bytes, read while the client takes the current one (RETR/TOP in a row). */
  private ahead: { number: number; bytes: Promise<Buffer> } | null = null;
  /** Records with their header prefix for the next messages RETR/TOP will likely read, by message number. */
  private readonly sources = new Map<number, MessageRecord>();
  private sourcesLoading: { from: number; to: number; done: Promise<void> } | null = null;

  constructor(
    public socket: Socket,
    readonly services: SessionServices,
    public secure: boolean,
  ) {
    this.reader = new LineReader(services.settings.maxLineBytes);
  }

  get settings(): Pop3Settings {
    return this.services.settings;
  }

  get store(): MessageStore {
    return this.services.store;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  /** RFC 2595 §2.2: credentials only over TLS unless the operator allows otherwise. */
  get mayAuthenticate(): boolean {
    return this.secure || this.settings.allowInsecureAuth;
  }

  get tlsOffered(): boolean {
    return !this.secure && !!this.services.startTls;
  }

  /** Feeds the reader from a byte source (the socket, then the TLS socket after STLS). */
  attachInput(source: Socket): void {
    this.detachInput?.();
    const onData = (chunk: Buffer) => this.reader.push(chunk);
    const onEnd = () => this.reader.close();
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('close', onEnd);
    source.on('error', () => undefined);
    this.detachInput = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('close', onEnd);
    };
  }

  // ------------------------------------------------------------------ output

  write(data: string | Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(data);
  }

  /** A multi-line response (RFC 1939 §3) from ready lines; none of them may be the bare terminator. */
  writeLines(status: string, lines: string[]): void {
    const body = lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).map((l) => `${l}\r\n`).join('');
    this.write(`+OK ${status}\r\n${body}.\r\n`);
  }

  /**
   * Streams a stored message byte-stuffed, waiting for the socket to drain as it goes. The status line, the pieces
   * and the terminator are corked into as few writes (TLS records, segments) as the socket's buffer allows: a reply
   * in many small writes waits for the client's delayed ACK at every one the socket holds back.
   */
  async writeMessage(status: string, source: Readable | Buffer, bodyLines?: number): Promise<void> {
    if (Buffer.isBuffer(source)) {
      const stuffer = new DotStuffer(bodyLines);
      this.socket.cork();
      this.write(`+OK ${status}\r\n`);
      for (const piece of stuffer.push(source)) this.write(piece);
      for (const piece of stuffer.end()) this.write(piece);
      this.socket.uncork();
      await this.drained();
      return;
    }
    const stuffer = new DotStuffer(bodyLines);
    const socket = this.socket;
    socket.cork();
    try {
      this.write(`+OK ${status}\r\n`);
      for await (const chunk of source) {
        let full = false;
        for (const piece of stuffer.push(chunk as Buffer)) full = !this.write(piece) || full;
        if (full) {
          socket.uncork();
          await this.drained();
          socket.cork();
        }
        if (stuffer.done || socket.destroyed) break;
      }
      for (const piece of stuffer.end()) this.write(piece);
    } finally {
      source.destroy();
      socket.uncork();
    }
  }

  /**
   * A message as RETR/TOP serve it: whole when it is small (readAheadMaxBytes), then the next live message is read
   * ahead; larger ones as a stream. Rejects (MessageNotFoundError) for a message expunged meanwhile, before any +OK.
   */
  async messageContent(m: MaildropMessage): Promise<Readable | Buffer> {
    const limit = this.settings.readAheadMaxBytes;
    if (m.size > limit) return this.store.getMessageSource(m.id);
    const ahead = this.ahead?.number === m.number ? this.ahead.bytes : null;
    this.ahead = null;
    const bytes = ahead ?? this.readWhole(m);
    const next = this.maildrop?.messages[m.number];
    if (next && !next.deleted && next.size <= limit) {
      const pending = this.readWhole(next);
      // Never awaited when the client stops or asks for another message; its error is RETR's if it is asked for.
      pending.catch(() => undefined);
      this.ahead = { number: next.number, bytes: pending };
    }
    return bytes;
  }

  /**
   * A blob read with no query of its own: the header prefixes of this and the next SOURCE_BATCH - 1 messages come in
   * one listing, kept only until each is served (a 100,000-message maildrop never holds them all). A message missing
   * from the listing is read as before (getMessageSource: MessageNotFoundError when it was expunged meanwhile).
   */
  private async readWhole(m: MaildropMessage): Promise<Buffer> {
    if (!this.sources.has(m.number)) {
      const pending = this.sourcesLoading;
      if (pending && m.number >= pending.from && m.number <= pending.to) await pending.done;
      else await this.loadSources(m);
    }
    const record = this.sources.get(m.number);
    this.sources.delete(m.number);
    if (!record) {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.store.getMessageSource(m.id)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    try {
      return await this.store.readMessage(record);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new MessageNotFoundError(m.id);
      throw err;
    }
  }

  private loadSources(m: MaildropMessage): Promise<void> {
    const batch = this.maildrop!.messages.slice(m.number - 1, m.number - 1 + SOURCE_BATCH).filter((x) => !x.deleted);
    const last = batch[batch.length - 1];
    const done = this.store
      .listMessages(this.maildrop!.folder.id, { uids: [{ from: m.uid, to: last.uid }], withSummary: false, withSource: true })
      .then((records) => {
        const byUid = new Map(batch.map((x) => [x.uid, x.number]));
        this.sources.clear();
        for (const r of records) {
          const number = byUid.get(r.uid);
          if (number !== undefined && r.headerPrefix !== undefined) this.sources.set(number, r);
        }
      })
      .finally(() => {
        if (this.sourcesLoading?.done === done) this.sourcesLoading = null;
      });
    this.sourcesLoading = { from: m.number, to: last.number, done };
    return done;
  }

  async drained(): Promise<void> {
    const socket = this.socket;
    if (!socket.writableNeedDrain || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }

  // ------------------------------------------------------------------ login

  /** Shared by PASS and AUTH: credentials, then the exclusive lock, then the maildrop snapshot. */
  async login(username: string, password: string): Promise<void> {
    const verdict = await this.services.authenticator.login({ username, password, remoteAddress: this.remoteAddress, secure: this.secure });
    if (!verdict.ok) {
      this.authFailures++;
      throw refuse(verdict.text, verdict.code);
    }
    const lease = await this.services.lock.acquire(verdict.mailboxId, () => this.lockLost());
    if (!lease) throw refuse('Mailbox is in use by another POP3 session', 'IN-USE');
    try {
      const folder = await this.store.getFolder(verdict.mailboxId, { name: INBOX });
      const records = await this.store.listMessages(folder.id, { withSummary: false });
      this.maildrop = new Maildrop(folder, records);
    } catch (err) {
      await lease.release();
      throw err;
    }
    this.lease = lease;
    this.mailboxId = verdict.mailboxId;
    this.username = verdict.username;
    this.pendingUser = null;
    this.state = 'transaction';
  }

  private lockLost(): void {
    // Without the lease another session may own the maildrop now: leave without the UPDATE state.
    this.lease = null;
    this.maildrop = null;
    this.write('-ERR [SYS/TEMP] Mailbox lock lost; disconnecting\r\n');
    this.socket.end();
    this.reader.close();
  }

  // ------------------------------------------------------------------ update

  /** RFC 1939 §6: the UPDATE state, entered only by QUIT. Deleted messages are removed, retrieved ones marked seen. */
  async update(): Promise<{ deleted: number; left: number }> {
    const maildrop = this.maildrop;
    if (!maildrop || !this.lease) throw refuse('Mailbox lock lost; nothing was deleted', 'SYS/TEMP');
    this.state = 'update';
    const folderId = maildrop.folder.id;
    const deleted = maildrop.messages.filter((m) => m.deleted);
    const seen = maildrop.messages.filter((m) => m.retrieved && !m.deleted);
    if (seen.length) await this.store.setFlags(folderId, uidRanges(seen), 'add', ['\\Seen']);
    if (deleted.length) {
      const ranges = uidRanges(deleted);
      await this.store.setFlags(folderId, ranges, 'add', ['\\Deleted']);
      // Only the UIDs this session deleted: \Deleted marks an IMAP client left elsewhere stay its business.
      await this.store.expunge(folderId, ranges);
    }
    return { deleted: deleted.length, left: maildrop.live().length };
  }

  /** Ends the session; whatever happens, the lease goes (a dropped connection deletes nothing). */
  async close(): Promise<void> {
    this.detachInput?.();
    this.reader.close();
    const lease = this.lease;
    this.lease = null;
    this.maildrop = null;
    this.ahead = null;
    if (lease) await lease.release();
  }
}

/** UIDs as ranges, merging neighbours. */
export function uidRanges(messages: MaildropMessage[]): NumberRange[] {
  const uids = messages.map((m) => m.uid).sort((a, b) => a - b);
  const ranges: NumberRange[] = [];
  for (const uid of uids) {
    const last = ranges[ranges.length - 1];
    if (last && last.to + 1 === uid) last.to = uid;
    else ranges.push({ from: uid, to: uid });
  }
  return ranges;
}
