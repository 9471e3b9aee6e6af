/**
 * MessageStore in process memory with the PostgreSQL store's behaviour, for fast protocol unit tests. Each mutation
 * runs without an await between its checks and its writes, which makes it atomic on Node's single thread.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parseSearchKeyList, searchKeys } from '@dizi/domain/search-key';
import type { BlobRange, BlobStore, StoredBlob } from '../ports/blob-store';
import {
  BlobNotStoredError, DEFAULT_FOLDERS, FolderExistsError, FolderNotFoundError, FolderOperationError, INBOX,
  InvalidFolderNameError, MailboxNotFoundError, MessageNotFoundError, QuotaExceededError,
  type AppendOptions, type AppendResult, type ChangesSince, type CopyResult, type Delivery, type DeliveryOutcome,
  type ExpungeResult, type FlagMode, type Folder, type FolderRef, type FolderView, type GarbageCollection, type ImapFormat, type ListMessagesQuery, type LocatedMessage,
  type MailboxHit, type MailboxQuery, type MailboxSearch,
  type MessageRecord, type MessageStore, type MoveResult, type NewMessage, type NumberRange, type QuotaUsage,
  type SearchHit, type SetFlagsResult, type SortCriterion, type SortFields, type SpecialUse, type StoreSearch,
} from '../ports/message-store';
import { eventDetail, type MailboxEvent, type Notifier } from '../ports/notifier';
import {
  DELETED, SEEN, applyFlagMode, hasFlag, inRanges, isSameOrChild, normalizeFlags, normalizeFolderName, normalizeRanges,
  parentNames, sameFlags, servedSize,
} from '../message-rules';
import { composeMessageSource, readMessageBytes } from '../message-source';
import { searchFieldsOf, type SearchFields } from '../search-fields';
import { matchesMailboxSearch, matchesStoreSearch, sortMailboxRows, sortRows, type MailboxSearchableRow } from '../store-search';
import { renderImapFormat } from '../stored-imap-format';

export interface MemoryMessageStoreOptions {
  blobs: BlobStore;
  notifier: Notifier;
  gcGraceMs?: number;
  now?: () => Date;
}

interface MailboxState { quotaBytes: number; usedBytes: number; messageCount: number; lastUidValidity: number }
interface MessageState {
  id: string; folderId: string; uid: number; modseq: number; flags: string[]; size: number; internalDate: Date;
  blobHash: string; headerPrefix: string; summary: unknown; sortFields: SortFields; keys: Set<number>; deliveryKey: string | null;
  imapFormat: ImapFormat | null;
  fields: SearchFields;
  /** Set by addMessage (thread-ids.ts rule); a copy takes a thread of its own mailbox. */
  threadId?: string;
}
/** tombstoneIds: the message id of each tombstone, by UID (JMAP Email/changes). */
interface FolderState extends Folder {
  messages: MessageState[]; tombstones: Map<number, number>; tombstoneIds: Map<number, string>;
  /** The thread of each expunged message's tombstone (moves leave none). */
  tombstoneThreads: Map<number, string>;
}
interface BlobState { size: number; refcount: number; touchedAt: number }
type Events = Array<{ mailboxId: string; event: MailboxEvent }>;

export class MemoryMessageStore implements MessageStore {
  private readonly mailboxes = new Map<string, MailboxState>();
  private readonly folders = new Map<string, FolderState>();
  private readonly messages = new Map<string, MessageState>();
  private readonly deliveryKeys = new Map<string, MessageState>();
  private readonly blobRows = new Map<string, BlobState>();
  /** Subscribed names without a folder, per mailbox. */
  private readonly detachedSubscriptions = new Map<string, Set<string>>();
  private nextMessageId = 1;
  /** Messages by their Message-ID header, for thread ids. */
  private readonly byMessageId = new Map<string, Set<MessageState>>();
  private readonly blobs: BlobStore;
  private readonly notifier: Notifier;
  private readonly gcGraceMs: number;
  private readonly now: () => Date;

  constructor(options: MemoryMessageStoreOptions) {
    this.blobs = options.blobs;
    this.notifier = options.notifier;
    this.gcGraceMs = options.gcGraceMs ?? 24 * 3600_000;
    this.now = options.now ?? (() => new Date());
  }

  /** The mailbox rows the API owns in PostgreSQL; tests create them here. */
  addMailbox(mailboxId: string, quotaBytes: number): void {
    this.mailboxes.set(mailboxId, { quotaBytes, usedBytes: 0, messageCount: 0, lastUidValidity: 0 });
  }

  setQuota(mailboxId: string, quotaBytes: number): void {
    this.mailbox(mailboxId).quotaBytes = quotaBytes;
  }

  /** Reference count of a blob row, or null when there is none (tests compare it with the PostgreSQL trigger's). */
  blobRefcount(hash: string): number | null {
    return this.blobRows.get(hash)?.refcount ?? null;
  }

  async putBlob(content: Readable | Buffer, opts: { maxBytes?: number } = {}): Promise<StoredBlob> {
    return this.blobs.put(content, {
      maxBytes: opts.maxBytes,
      beforeCommit: async ({ hash, size }) => {
        const row = this.blobRows.get(hash);
        if (row) row.touchedAt = this.now().getTime();
        else this.blobRows.set(hash, { size, refcount: 0, touchedAt: this.now().getTime() });
      },
    });
  }

  // ---------------------------------------------------------------- folders

  async createDefaultFolders(mailboxId: string): Promise<Folder[]> {
    this.mailbox(mailboxId);
    const existing = this.folderList(mailboxId);
    let changed = false;
    for (const def of DEFAULT_FOLDERS) {
      if (existing.some((f) => f.specialUse === def.specialUse)) continue;
      const sameName = existing.find((f) => f.name === def.name);
      if (sameName) sameName.specialUse = def.specialUse;
      else this.insertFolder(mailboxId, def.name, def.specialUse, true);
      changed = true;
    }
    if (changed) await this.publish([{ mailboxId, event: foldersEvent() }]);
    return this.listFolders(mailboxId);
  }

  async listFolders(mailboxId: string): Promise<Folder[]> {
    return this.folderList(mailboxId)
      .sort((a, b) => (a.name === INBOX ? -1 : b.name === INBOX ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(publicFolder);
  }

  async getFolder(mailboxId: string, ref: FolderRef): Promise<Folder> {
    return publicFolder(this.findFolder(mailboxId, ref));
  }

  async createFolder(mailboxId: string, name: string, opts: { specialUse?: SpecialUse; subscribed?: boolean } = {}): Promise<Folder> {
    const normalized = normalizeFolderName(name);
    this.mailbox(mailboxId);
    const names = new Set(this.folderList(mailboxId).map((f) => f.name));
    if (names.has(normalized)) throw new FolderExistsError(normalized);
    const specialUse = opts.specialUse ?? (normalized === INBOX ? 'inbox' : null);
    if (specialUse && this.folderList(mailboxId).some((f) => f.specialUse === specialUse)) {
      throw new FolderOperationError('special-use', 'another folder already has this special use');
    }
    for (const parent of parentNames(normalized)) {
      if (!names.has(parent)) this.insertFolder(mailboxId, parent, null, opts.subscribed ?? true);
    }
    const folder = this.insertFolder(mailboxId, normalized, specialUse, opts.subscribed ?? true);
    await this.publish([{ mailboxId, event: foldersEvent() }]);
    return publicFolder(folder);
  }

  async renameFolder(mailboxId: string, ref: FolderRef, newName: string): Promise<Folder> {
    const target = normalizeFolderName(newName);
    const folder = this.findFolder(mailboxId, ref);
    const all = this.folderList(mailboxId);
    const names = new Set(all.map((f) => f.name));
    const events: Events = [{ mailboxId, event: foldersEvent() }];
    if (names.has(target)) throw new FolderExistsError(target);
    if (folder.name === INBOX) {
      for (const parent of parentNames(target)) if (!names.has(parent)) this.insertFolder(mailboxId, parent, null, true);
      const created = this.insertFolder(mailboxId, target, null, folder.subscribed);
      this.moveMessages(folder, created, folder.messages.slice(), events);
      await this.publish(events);
      return publicFolder(created);
    }
    if (isSameOrChild(target, folder.name)) throw new InvalidFolderNameError(target, `it is ${folder.name} itself or inside it`);
    const subtree = all.filter((f) => isSameOrChild(f.name, folder.name));
    const renamed = subtree.map((f) => target + f.name.slice(folder.name.length));
    const clash = renamed.find((n) => names.has(n) || n.toUpperCase() === INBOX);
    if (clash) throw new FolderExistsError(clash);
    for (const parent of parentNames(target)) if (!names.has(parent)) this.insertFolder(mailboxId, parent, null, true);
    subtree.forEach((f, i) => { f.name = renamed[i]; });
    await this.publish(events);
    return publicFolder(folder);
  }

  async deleteFolder(mailboxId: string, ref: FolderRef): Promise<void> {
    const folder = this.findFolder(mailboxId, ref);
    if (folder.name === INBOX) throw new FolderOperationError(folder.name, 'INBOX cannot be deleted');
    if (this.folderList(mailboxId).some((f) => f.name.startsWith(folder.name + '/'))) {
      throw new FolderOperationError(folder.name, 'it has subfolders; delete or move them first');
    }
    const mailbox = this.mailbox(mailboxId);
    mailbox.usedBytes -= folder.sizeBytes;
    mailbox.messageCount -= folder.messageCount;
    for (const m of folder.messages) this.dropMessage(m);
    this.folders.delete(folder.id);
    if (folder.subscribed) this.detachedOf(mailboxId).add(folder.name);
    await this.publish([{ mailboxId, event: foldersEvent() }]);
  }

  async setSubscribed(mailboxId: string, ref: FolderRef, subscribed: boolean): Promise<void> {
    const name = 'name' in ref ? normalizeFolderName(ref.name) : null;
    const folder = name === null ? this.findFolder(mailboxId, ref) : this.folderList(mailboxId).find((f) => f.name === name);
    if (folder) folder.subscribed = subscribed;
    else if (subscribed) this.detachedOf(mailboxId).add(name!);
    else if (!this.detachedOf(mailboxId).delete(name!)) throw new FolderNotFoundError(name!);
    await this.publish([{ mailboxId, event: foldersEvent() }]);
  }

  async listDetachedSubscriptions(mailboxId: string): Promise<string[]> {
    return [...(this.detachedSubscriptions.get(mailboxId) ?? [])].sort();
  }

  private detachedOf(mailboxId: string): Set<string> {
    this.mailbox(mailboxId);
    let set = this.detachedSubscriptions.get(mailboxId);
    if (!set) this.detachedSubscriptions.set(mailboxId, (set = new Set()));
    return set;
  }

  async folderStatus(folderId: string): Promise<Folder> {
    return publicFolder(this.folderById(folderId));
  }

  async quota(mailboxId: string): Promise<QuotaUsage> {
    const m = this.mailbox(mailboxId);
    return { usedBytes: m.usedBytes, messageCount: m.messageCount, quotaBytes: m.quotaBytes };
  }

  // ---------------------------------------------------------------- messages

  async append(mailboxId: string, folder: FolderRef, message: NewMessage, opts: AppendOptions): Promise<AppendResult> {
    const [outcome] = await this.appendMany([{ mailboxId, folder, message, enforceQuota: opts.enforceQuota }]);
    if (!outcome.ok) throw outcome.error;
    const { ok: _ok, ...result } = outcome;
    return result;
  }

  async appendMany(deliveries: Delivery[]): Promise<DeliveryOutcome[]> {
    const events: Events = [];
    const outcomes = deliveries.map((d): DeliveryOutcome => {
      const m = d.message;
      const earlier = m.deliveryKey ? this.deliveryKeys.get(m.deliveryKey) : undefined;
      if (earlier) return { ok: true, ...this.resultOf(earlier, true) };
      const blob = this.blobRows.get(m.blobHash);
      if (!blob) return { ok: false, error: new BlobNotStoredError(m.blobHash) };
      let folder: FolderState;
      try {
        folder = this.findFolder(d.mailboxId, 'name' in d.folder ? { name: normalizeFolderName(d.folder.name) } : d.folder);
      } catch {
        return { ok: false, error: new FolderNotFoundError('name' in d.folder ? d.folder.name : d.folder.id) };
      }
      const headerPrefix = m.headerPrefix ?? '';
      const size = servedSize(headerPrefix, blob.size);
      const mailbox = this.mailbox(folder.mailboxId);
      if (d.enforceQuota && mailbox.usedBytes + size > mailbox.quotaBytes) {
        return { ok: false, error: new QuotaExceededError(folder.mailboxId, size, mailbox.usedBytes, mailbox.quotaBytes) };
      }
      const flags = normalizeFlags(m.flags ?? []);
      const message: MessageState = {
        id: String(this.nextMessageId++), folderId: folder.id, uid: folder.uidNext, modseq: folder.highestModseq + 1, flags, size,
        internalDate: m.internalDate ?? this.now(), blobHash: m.blobHash, headerPrefix, summary: structuredClone(m.summary ?? null),
        sortFields: structuredClone(m.sortFields ?? {}), keys: new Set(memoryKeys(m.searchKeys)), deliveryKey: m.deliveryKey ?? null,
        imapFormat: renderImapFormat(m.summary), fields: searchFieldsOf(m.summary, m.sortFields?.references),
      };
      this.addMessage(folder, message);
      mailbox.usedBytes += size;
      mailbox.messageCount += 1;
      events.push({ mailboxId: folder.mailboxId, event: {
        type: 'exists', folderId: folder.id, uids: [message.uid], modseq: message.modseq, ...eventDetail(message.modseq - 1, [message.uid], [flags]),
      } });
      return { ok: true, ...this.resultOf(message, false) };
    });
    await this.publish(mergeExists(events));
    return outcomes;
  }

  async viewFolder(mailboxId: string, ref: FolderRef): Promise<FolderView> {
    const folder = this.findFolder(mailboxId, ref);
    const uidRuns: NumberRange[] = [];
    const keywords = new Set<string>();
    let firstUnseenUid: number | null = null;
    for (const m of folder.messages) {
      const last = uidRuns[uidRuns.length - 1];
      if (last && last.to + 1 === m.uid) last.to = m.uid;
      else uidRuns.push({ from: m.uid, to: m.uid });
      if (firstUnseenUid === null && !hasFlag(m.flags, SEEN)) firstUnseenUid = m.uid;
      for (const f of m.flags) if (!f.startsWith('\\')) keywords.add(f);
    }
    return { folder: publicFolder(folder), uidRuns, firstUnseenUid, keywords: [...keywords] };
  }

  async listMessages(folderId: string, query: ListMessagesQuery = {}): Promise<MessageRecord[]> {
    const folder = this.folderById(folderId);
    const uids = query.uids ? normalizeRanges(query.uids) : null;
    const seqs = query.seqs ? normalizeRanges(query.seqs) : null;
    const out: MessageRecord[] = [];
    folder.messages.forEach((m, i) => {
      if (uids && !inRanges(m.uid, uids)) return;
      if (seqs && !inRanges(i + 1, seqs)) return;
      if (query.changedSince !== undefined && m.modseq <= query.changedSince) return;
      const record: MessageRecord = {
        id: m.id, uid: m.uid, modseq: m.modseq, flags: [...m.flags], size: m.size, internalDate: m.internalDate, blobHash: m.blobHash,
      };
      if (seqs) record.seq = i + 1;
      if (query.withSummary !== false) record.summary = structuredClone(m.summary);
      if (query.withSortFields) record.sortFields = structuredClone(m.sortFields);
      if (query.withSource) record.headerPrefix = m.headerPrefix;
      if (query.withImapFormat) record.imapFormat = m.imapFormat;
      if (query.withThreadId) record.threadId = m.threadId;
      out.push(record);
    });
    return out;
  }

  async getMessageSource(messageId: string, range?: BlobRange): Promise<Readable> {
    const m = this.messages.get(messageId);
    if (!m) throw new MessageNotFoundError(messageId);
    return composeMessageSource(this.blobs, m.headerPrefix, m.blobHash, this.blobRows.get(m.blobHash)!.size, range);
  }

  async readMessage(record: MessageRecord, range?: BlobRange): Promise<Buffer> {
    const m = this.messages.get(record.id);
    if (!m) throw new MessageNotFoundError(record.id);
    return readMessageBytes(this.blobs, m.headerPrefix, m.blobHash, this.blobRows.get(m.blobHash)!.size, range);
  }

  async setFlags(folderId: string, uids: NumberRange[], mode: FlagMode, flags: string[], opts: { unchangedSince?: number } = {}): Promise<SetFlagsResult> {
    const folder = this.folderById(folderId);
    const ranges = normalizeRanges(uids);
    const modseq = folder.highestModseq + 1;
    const failed: number[] = [];
    const changed: SetFlagsResult['changed'] = [];
    for (const m of folder.messages) {
      if (!inRanges(m.uid, ranges)) continue;
      if (opts.unchangedSince !== undefined && m.modseq > opts.unchangedSince) {
        failed.push(m.uid);
        continue;
      }
      const next = applyFlagMode(m.flags, mode, flags);
      if (sameFlags(next, m.flags)) continue;
      folder.unseenCount += (hasFlag(next, SEEN) ? 0 : 1) - (hasFlag(m.flags, SEEN) ? 0 : 1);
      m.flags = next;
      m.modseq = modseq;
      changed.push({ uid: m.uid, modseq, flags: [...next] });
    }
    if (changed.length === 0) return { changed, failed, highestModseq: folder.highestModseq };
    folder.highestModseq = modseq;
    const changedUids = changed.map((x) => x.uid);
    await this.publish([{ mailboxId: folder.mailboxId, event: {
      type: 'flags', folderId, uids: changedUids, modseq, ...eventDetail(modseq - 1, changedUids, changed.map((x) => x.flags)),
    } }]);
    return { changed, failed, highestModseq: modseq };
  }

  async copy(folderId: string, uids: NumberRange[], targetFolderId: string, opts: { enforceQuota?: boolean } = {}): Promise<CopyResult> {
    const source = this.folderById(folderId);
    const target = this.folderById(targetFolderId);
    const ranges = normalizeRanges(uids);
    const selected = source.messages.filter((m) => inRanges(m.uid, ranges));
    if (selected.length === 0) return { uidValidity: target.uidValidity, map: [], modseq: target.highestModseq };
    const mailbox = this.mailbox(target.mailboxId);
    const bytes = selected.reduce((s, m) => s + m.size, 0);
    if ((opts.enforceQuota ?? true) && mailbox.usedBytes + bytes > mailbox.quotaBytes) {
      throw new QuotaExceededError(target.mailboxId, bytes, mailbox.usedBytes, mailbox.quotaBytes);
    }
    const modseq = target.highestModseq + 1;
    const copiedFlags = selected.map((m) => [...m.flags]);
    const map = selected.map((m) => {
      const copy: MessageState = {
        ...structuredClone({ ...m, keys: undefined }), keys: new Set(m.keys),
        id: String(this.nextMessageId++), folderId: target.id, uid: target.uidNext, modseq, deliveryKey: null, threadId: undefined,
      };
      this.addMessage(target, copy);
      return { sourceUid: m.uid, targetUid: copy.uid };
    });
    mailbox.usedBytes += bytes;
    mailbox.messageCount += selected.length;
    const targetUids = map.map((x) => x.targetUid);
    await this.publish([{ mailboxId: target.mailboxId, event: {
      type: 'exists', folderId: target.id, uids: targetUids, modseq, ...eventDetail(modseq - 1, targetUids, copiedFlags),
    } }]);
    return { uidValidity: target.uidValidity, map, modseq };
  }

  async move(folderId: string, uids: NumberRange[], targetFolderId: string): Promise<MoveResult> {
    if (folderId === targetFolderId) throw new FolderOperationError(folderId, 'source and target of a move are the same folder');
    const source = this.folderById(folderId);
    const target = this.folderById(targetFolderId);
    const ranges = normalizeRanges(uids);
    const events: Events = [];
    const result = this.moveMessages(source, target, source.messages.filter((m) => inRanges(m.uid, ranges)), events);
    await this.publish(events);
    return result;
  }

  async expunge(folderId: string, uids?: NumberRange[]): Promise<ExpungeResult> {
    const folder = this.folderById(folderId);
    const ranges = uids ? normalizeRanges(uids) : null;
    const gone = folder.messages.filter((m) => hasFlag(m.flags, DELETED) && (!ranges || inRanges(m.uid, ranges)));
    if (gone.length === 0) return { uids: [], modseq: folder.highestModseq };
    const modseq = folder.highestModseq + 1;
    this.removeMessages(folder, gone, modseq, true);
    const mailbox = this.mailbox(folder.mailboxId);
    mailbox.usedBytes -= gone.reduce((s, m) => s + m.size, 0);
    mailbox.messageCount -= gone.length;
    for (const m of gone) this.dropMessage(m);
    const expunged = gone.map((m) => m.uid);
    await this.publish([{ mailboxId: folder.mailboxId, event: { type: 'expunge', folderId, uids: expunged, modseq, ...eventDetail(modseq - 1, expunged) } }]);
    return { uids: expunged, modseq };
  }

  async search(folderId: string, tokens: string[]): Promise<number[]> {
    const folder = this.folderById(folderId);
    const wanted = searchKeys(tokens);
    return folder.messages.filter((m) => wanted.every((k) => m.keys.has(k))).map((m) => m.uid);
  }

  async searchMessages(folderId: string, query: StoreSearch, opts: { sort?: SortCriterion[]; withThreadKeys?: boolean } = {}): Promise<SearchHit[]> {
    const folder = this.folderById(folderId);
    const found = folder.messages.filter((m) => matchesStoreSearch(m, query));
    const ordered = opts.sort?.length ? sortRows(found, opts.sort) : found.sort((a, b) => a.uid - b.uid);
    return ordered.map((m) => {
      const hit: SearchHit = { uid: m.uid, modseq: m.modseq };
      if (opts.withThreadKeys) {
        hit.thread = {
          messageId: m.sortFields.messageId ?? null, inReplyTo: m.sortFields.inReplyTo ?? null, references: [...(m.sortFields.references ?? [])],
          subject: m.sortFields.subject ?? null, baseSubject: m.fields.s.subject, sentTime: m.fields.dt ?? m.internalDate.getTime(),
        };
      }
      return hit;
    });
  }

  async changesSince(folderId: string, modseq: number): Promise<ChangesSince> {
    const folder = this.folderById(folderId);
    const changed = await this.listMessages(folderId, { changedSince: modseq, withSummary: false, withThreadId: true });
    const vanished = [...folder.tombstones].filter(([, m]) => m > modseq).map(([uid]) => uid).sort((a, b) => a - b);
    const vanishedMessages = vanished.map((uid) => ({
      uid, messageId: folder.tombstoneIds.get(uid) ?? null, modseq: folder.tombstones.get(uid)!, threadId: folder.tombstoneThreads.get(uid) ?? null,
    }));
    return { changed, vanished, vanishedMessages, highestModseq: folder.highestModseq };
  }

  async queryMessages(mailboxId: string, query: MailboxQuery): Promise<MailboxHit[]> {
    const ordered = sortMailboxRows(this.mailboxRows(mailboxId, query.filter), query.sort);
    const start = Math.max(0, query.offset);
    const window = query.limit === null ? ordered.slice(start) : ordered.slice(start, start + Math.max(0, query.limit));
    return window.map((r) => ({ id: r.id, threadId: r.threadId }));
  }

  async countMessages(mailboxId: string, filter: MailboxSearch, opts: { threads?: boolean } = {}): Promise<number> {
    const rows = this.mailboxRows(mailboxId, filter);
    return opts.threads ? new Set(rows.map((r) => r.threadId)).size : rows.length;
  }

  private mailboxRows(mailboxId: string, filter: MailboxSearch): MailboxSearchableRow[] {
    return this.folderList(mailboxId).flatMap((f) => f.messages.map((m): MailboxSearchableRow => ({
      ...m, threadId: m.threadId ?? m.id, attachmentCount: m.sortFields.attachmentNames?.length ?? 0, attachmentNames: m.sortFields.attachmentNames,
    }))).filter((r) => matchesMailboxSearch(r, filter));
  }

  async threadMessages(mailboxId: string, threadIds: string[]): Promise<Array<{ threadId: string; messageIds: string[] }>> {
    const wanted = new Set(threadIds);
    const found = new Map<string, MessageState[]>();
    for (const m of this.messages.values()) {
      if (!m.threadId || !wanted.has(m.threadId) || this.folders.get(m.folderId)?.mailboxId !== mailboxId) continue;
      found.set(m.threadId, [...(found.get(m.threadId) ?? []), m]);
    }
    return threadIds.flatMap((threadId) => {
      const list = found.get(threadId);
      if (!list) return [];
      list.sort((a, b) => a.internalDate.getTime() - b.internalDate.getTime() || Number(a.id) - Number(b.id));
      return [{ threadId, messageIds: list.map((m) => m.id) }];
    });
  }

  async messagesById(mailboxId: string, ids: string[], query: Pick<ListMessagesQuery, 'withSummary' | 'withSortFields' | 'withSource'> = {}): Promise<LocatedMessage[]> {
    return ids.flatMap((id) => {
      const m = this.messages.get(id);
      if (!m || this.folders.get(m.folderId)?.mailboxId !== mailboxId) return [];
      const record: LocatedMessage = {
        id: m.id, folderId: m.folderId, uid: m.uid, modseq: m.modseq, flags: [...m.flags], size: m.size, internalDate: m.internalDate, blobHash: m.blobHash,
        threadId: m.threadId,
      };
      if (query.withSummary !== false) record.summary = structuredClone(m.summary);
      if (query.withSortFields) record.sortFields = structuredClone(m.sortFields);
      if (query.withSource) record.headerPrefix = m.headerPrefix;
      return [record];
    });
  }

  /** Keys are indexed as messages are stored. */
  async mergeSearchIndex(): Promise<number> {
    return 0;
  }

  async collectGarbage(): Promise<GarbageCollection> {
    const cutoff = this.now().getTime() - this.gcGraceMs;
    let deleted = 0;
    for (const [hash, row] of [...this.blobRows]) {
      if (row.refcount !== 0 || row.touchedAt >= cutoff) continue;
      // Object first, then row, as in the PostgreSQL store.
      await this.blobs.delete(hash);
      const now = this.blobRows.get(hash);
      if (now && now.refcount === 0 && now.touchedAt < cutoff) {
        this.blobRows.delete(hash);
        deleted += 1;
      }
    }
    return { deleted };
  }

  // ---------------------------------------------------------------- internals

  private mailbox(mailboxId: string): MailboxState {
    const m = this.mailboxes.get(mailboxId);
    if (!m) throw new MailboxNotFoundError(mailboxId);
    return m;
  }

  private folderList(mailboxId: string): FolderState[] {
    return [...this.folders.values()].filter((f) => f.mailboxId === mailboxId);
  }

  private findFolder(mailboxId: string, ref: FolderRef): FolderState {
    if ('id' in ref) {
      const f = this.folders.get(ref.id);
      if (!f || f.mailboxId !== mailboxId) throw new FolderNotFoundError(ref.id);
      return f;
    }
    let name: string;
    try {
      name = normalizeFolderName(ref.name);
    } catch {
      throw new FolderNotFoundError(ref.name);
    }
    const f = this.folderList(mailboxId).find((x) => x.name === name);
    if (!f) throw new FolderNotFoundError(ref.name);
    return f;
  }

  private folderById(folderId: string): FolderState {
    const f = this.folders.get(folderId);
    if (!f) throw new FolderNotFoundError(folderId);
    return f;
  }

  private insertFolder(mailboxId: string, name: string, specialUse: SpecialUse | null, subscribed: boolean): FolderState {
    const mailbox = this.mailbox(mailboxId);
    mailbox.lastUidValidity = Math.max(Math.floor(this.now().getTime() / 1000), mailbox.lastUidValidity + 1);
    // A name subscribed while it had no folder comes back subscribed.
    const wasSubscribed = this.detachedSubscriptions.get(mailboxId)?.delete(name) ?? false;
    const folder: FolderState = {
      id: randomUUID(), mailboxId, name, specialUse, subscribed: subscribed || wasSubscribed, uidValidity: mailbox.lastUidValidity, uidNext: 1, highestModseq: 1,
      messageCount: 0, unseenCount: 0, sizeBytes: 0, messages: [], tombstones: new Map(), tombstoneIds: new Map(), tombstoneThreads: new Map(),
    };
    this.folders.set(folder.id, folder);
    return folder;
  }

  /** Appends a message with the folder's next UID and MODSEQ already set on it. */
  private addMessage(folder: FolderState, m: MessageState): void {
    m.threadId ??= this.threadOf(folder.mailboxId, m);
    if (m.sortFields.messageId) {
      const same = this.byMessageId.get(m.sortFields.messageId) ?? new Set();
      this.byMessageId.set(m.sortFields.messageId, same.add(m));
    }
    folder.messages.push(m);
    folder.uidNext = m.uid + 1;
    folder.highestModseq = m.modseq;
    folder.messageCount += 1;
    folder.unseenCount += hasFlag(m.flags, SEEN) ? 0 : 1;
    folder.sizeBytes += m.size;
    this.messages.set(m.id, m);
    if (m.deliveryKey) this.deliveryKeys.set(m.deliveryKey, m);
    const blob = this.blobRows.get(m.blobHash)!;
    blob.refcount += 1;
  }

  /** The thread of the oldest message of the mailbox this one names (Message-ID, In-Reply-To, References), else its own. */
  private threadOf(mailboxId: string, m: MessageState): string {
    const ids = threadKeysOf(m.sortFields);
    if (ids.size === 0) return m.id;
    let found: MessageState | null = null;
    for (const id of ids) {
      for (const other of this.byMessageId.get(id) ?? []) {
        if (this.folders.get(other.folderId)?.mailboxId !== mailboxId) continue;
        if (!found || Number(other.id) < Number(found.id)) found = other;
      }
    }
    return found?.threadId ?? m.id;
  }

  /** `expunged`: the messages are gone (their tombstones keep their threads), not moved. */
  private removeMessages(folder: FolderState, gone: MessageState[], modseq: number, expunged = false): void {
    const set = new Set(gone);
    folder.messages = folder.messages.filter((m) => !set.has(m));
    for (const m of gone) {
      folder.tombstones.set(m.uid, modseq);
      folder.tombstoneIds.set(m.uid, m.id);
      if (expunged && m.threadId) folder.tombstoneThreads.set(m.uid, m.threadId);
      else folder.tombstoneThreads.delete(m.uid);
    }
    folder.highestModseq = modseq;
    folder.messageCount -= gone.length;
    folder.unseenCount -= gone.filter((m) => !hasFlag(m.flags, SEEN)).length;
    folder.sizeBytes -= gone.reduce((s, m) => s + m.size, 0);
  }

  private dropMessage(m: MessageState): void {
    this.messages.delete(m.id);
    const same = m.sortFields.messageId ? this.byMessageId.get(m.sortFields.messageId) : undefined;
    same?.delete(m);
    if (same?.size === 0) this.byMessageId.delete(m.sortFields.messageId!);
    if (m.deliveryKey && this.deliveryKeys.get(m.deliveryKey) === m) this.deliveryKeys.delete(m.deliveryKey);
    const blob = this.blobRows.get(m.blobHash)!;
    blob.refcount -= 1;
    blob.touchedAt = this.now().getTime();
  }

  private moveMessages(source: FolderState, target: FolderState, selected: MessageState[], events: Events): MoveResult {
    if (selected.length === 0) {
      return { uidValidity: target.uidValidity, map: [], modseq: target.highestModseq, sourceModseq: source.highestModseq };
    }
    const bytes = selected.reduce((s, m) => s + m.size, 0);
    if (source.mailboxId !== target.mailboxId) {
      const to = this.mailbox(target.mailboxId);
      if (to.usedBytes + bytes > to.quotaBytes) throw new QuotaExceededError(target.mailboxId, bytes, to.usedBytes, to.quotaBytes);
      const from = this.mailbox(source.mailboxId);
      from.usedBytes -= bytes;
      from.messageCount -= selected.length;
      to.usedBytes += bytes;
      to.messageCount += selected.length;
    }
    const sourceModseq = source.highestModseq + 1;
    const targetModseq = target.highestModseq + 1;
    this.removeMessages(source, selected, sourceModseq);
    const map = selected.map((m) => {
      const sourceUid = m.uid;
      Object.assign(m, { folderId: target.id, uid: target.uidNext, modseq: targetModseq });
      // Same object, same id and delivery key: the message moves, it is not copied.
      this.addMessage(target, m);
      this.blobRows.get(m.blobHash)!.refcount -= 1;
      return { sourceUid, targetUid: m.uid };
    });
    const sourceUids = map.map((x) => x.sourceUid);
    const targetUids = map.map((x) => x.targetUid);
    events.push({ mailboxId: source.mailboxId, event: {
      type: 'expunge', folderId: source.id, uids: sourceUids, modseq: sourceModseq, ...eventDetail(sourceModseq - 1, sourceUids),
    } });
    events.push({ mailboxId: target.mailboxId, event: {
      type: 'exists', folderId: target.id, uids: targetUids, modseq: targetModseq,
      ...eventDetail(targetModseq - 1, targetUids, selected.map((m) => m.flags)),
    } });
    return { uidValidity: target.uidValidity, map, modseq: targetModseq, sourceModseq };
  }

  private resultOf(m: MessageState, duplicate: boolean): AppendResult {
    const folder = this.folderById(m.folderId);
    return { messageId: m.id, folderId: m.folderId, uid: m.uid, uidValidity: folder.uidValidity, modseq: m.modseq, size: m.size, duplicate };
  }

  private async publish(events: Events): Promise<void> {
    for (const { mailboxId, event } of events) await this.notifier.publish(mailboxId, event).catch(() => undefined);
  }
}

function publicFolder(f: FolderState): Folder {
  const { messages: _m, tombstones: _t, tombstoneIds: _i, tombstoneThreads: _h, ...folder } = f;
  return { ...folder };
}

function foldersEvent(): MailboxEvent {
  return { type: 'folders', folderId: null, uids: [], modseq: null };
}

/** One `exists` event per folder per call, as the PostgreSQL store sends. */
function mergeExists(events: Events): Events {
  const byFolder = new Map<string, { mailboxId: string; event: MailboxEvent }>();
  for (const e of events) {
    const seen = byFolder.get(e.event.folderId!);
    if (seen) {
      seen.event.uids.push(...e.event.uids);
      seen.event.modseq = e.event.modseq;
      // The merged event still spans its first event's prevModseq to the last one's modseq.
      if (seen.event.flags && e.event.flags) seen.event.flags.push(...e.event.flags);
      else {
        delete seen.event.prevModseq;
        delete seen.event.flags;
      }
    } else {
      byFolder.set(e.event.folderId!, { mailboxId: e.mailboxId, event: { ...e.event, uids: [...e.event.uids], flags: e.event.flags && [...e.event.flags] } });
    }
  }
  return [...byFolder.values()];
}

function threadKeysOf(f: SortFields): Set<string> {
  return new Set([f.messageId, f.inReplyTo, ...(f.references ?? [])].filter((x): x is string => !!x));
}

/** Keys given as a list; keys kept in PostgreSQL's spool are for the PostgreSQL store alone. */
function memoryKeys(keys: NewMessage['searchKeys']): number[] {
  if (typeof keys === 'object') throw new TypeError('keys kept with a spooled message need the PostgreSQL store');
  return parseSearchKeyList(keys ?? '');
}
