/**
 * MessageStore on PostgreSQL. Every mutation is one transaction that takes its locks in one global order (folders by
 * id, then mailboxes by id, then blobs by hash — the last in the refcount trigger), so concurrent operations queue
 * instead of deadlocking. The folder row lock is what makes UID and MODSEQ allocation gap-free and ordered. Rows are
 * locked FOR NO KEY UPDATE: it excludes every other writer like FOR UPDATE, but not the foreign-key checks of inserts
 * that merely reference the row (FOR UPDATE would make those wait too).
 */
import type { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import { isSearchKeyList, searchKeys, type SearchKeyList } from '@dizi/domain/search-key';
import type { BlobRange, BlobStore, StoredBlob } from '../ports/blob-store';
import {
  BlobNotStoredError, DEFAULT_FOLDERS, FolderExistsError, FolderNotFoundError, FolderOperationError, INBOX,
  InvalidFolderNameError, MailboxNotFoundError, MessageNotFoundError, QuotaExceededError,
  type AppendOptions, type AppendResult, type ChangesSince, type CopyResult, type Delivery, type DeliveryOutcome,
  type ExpungeResult, type FlagMode, type LocatedMessage, type Folder, type FolderRef, type FolderView, type GarbageCollection, type ListMessagesQuery,
  type MessageRecord, type MessageStore, type MoveResult, type NewMessage, type NumberRange,
  type QuotaUsage, type SearchHit, type SetFlagsResult, type SortCriterion, type SpecialUse, type StoreSearch,
} from '../ports/message-store';
import type { MailboxEvent, Notifier } from '../ports/notifier';
import {
  DELETED, SEEN, hasFlag, isSameOrChild, normalizeFlags, normalizeFolderName, normalizeRanges,
  parentNames, servedSize,
} from '../message-rules';
import { GroupCommit } from '../group-commit';
import { jsonForPostgres } from '../json-for-postgres';
import { composeMessageSource, readMessageBytes } from '../message-source';
import { isIndexedHeaderField, searchFieldsOf, withoutNul, type SearchFields } from '../search-fields';
import { renderImapFormat } from '../stored-imap-format';

export interface PostgresMessageStoreOptions {
  pool: Pool;
  blobs: BlobStore;
  notifier: Notifier;
  /** How long an unreferenced blob survives; also the longest allowed gap between putBlob and append. Default 24 h. */
  gcGraceMs?: number;
  now?: () => Date;
  /** Publishing happens after commit; a failure is reported here and the operation still succeeds. */
  onNotifyError?: (err: unknown) => void;
}

const FOLDER_COLUMNS = `id, mailbox_id, name, special_use, subscribed, uid_validity, uid_next, highest_modseq,
  message_count, unseen_count, size_bytes`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GC_BATCH = 200;

interface FolderRow {
  id: string;
  mailbox_id: string;
  name: string;
  special_use: SpecialUse | null;
  subscribed: boolean;
  uid_validity: string;
  uid_next: number;
  highest_modseq: string;
  message_count: number;
  unseen_count: number;
  size_bytes: string;
}

interface MessageRow {
  id: string;
  uid: number;
  modseq: string;
  flags: string[];
  size: number;
  blob_hash: string;
}

type Events = Array<{ mailboxId: string; event: MailboxEvent }>;

export class PostgresMessageStore implements MessageStore {
  private readonly pool: Pool;
  private readonly blobs: BlobStore;
  private readonly notifier: Notifier;
  private readonly gcGraceMs: number;
  private readonly now: () => Date;
  /** Blob leases of concurrent putBlob calls, taken in one statement. */
  private readonly leases: GroupCommit<StoredBlob, void>;

  constructor(private readonly options: PostgresMessageStoreOptions) {
    this.pool = options.pool;
    this.blobs = options.blobs;
    this.notifier = options.notifier;
    this.gcGraceMs = options.gcGraceMs ?? 24 * 3600_000;
    this.now = options.now ?? (() => new Date());
    this.leases = new GroupCommit({ flush: (blobs) => this.leaseBlobs(blobs) });
  }

  async putBlob(content: Readable | Buffer, opts: { maxBytes?: number } = {}): Promise<StoredBlob> {
    return this.blobs.put(content, {
      maxBytes: opts.maxBytes,
      // The lease (fresh touched_at) comes before the object is committed: a collector already deleting this hash
      // holds the row lock, so we wait for it and the put then writes the object anew.
      beforeCommit: (blob) => this.leases.submit(blob),
    });
  }

  /**
   * Fresh touched_at for each blob (a row for a new one), in hash order: the collector's and the trigger's lock order.
   * Committed without waiting for the WAL flush (synchronous_commit off for this statement's transaction only): the
   * lease must be visible before the object is named, not durable. The row that makes it matter (a message or spool
   * row referencing the blob) commits synchronously later, which flushes the lease with it; a database crash in
   * between can only orphan an object no row names, never lose one that a row does.
   */
  private async leaseBlobs(blobs: StoredBlob[]): Promise<void[]> {
    const sizes = new Map(blobs.map((b) => [b.hash, b.size]));
    const hashes = [...sizes.keys()].sort();
    await this.pool.query(
      `INSERT INTO blob (hash, size)
       SELECT t.hash, t.size FROM unnest($1::text[], $2::bigint[]) AS t(hash, size),
              (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
        ORDER BY t.hash
       ON CONFLICT (hash) DO UPDATE SET touched_at = now()`,
      [hashes, hashes.map((h) => sizes.get(h))],
    );
    return blobs.map(() => undefined);
  }

  // ---------------------------------------------------------------- folders

  async createDefaultFolders(mailboxId: string): Promise<Folder[]> {
    await this.transaction(async (c, events) => {
      await this.lockMailboxes(c, [mailboxId]);
      const { rows } = await c.query<FolderRow>(`SELECT ${FOLDER_COLUMNS} FROM folder WHERE mailbox_id = $1`, [mailboxId]);
      let changed = false;
      for (const def of DEFAULT_FOLDERS) {
        if (rows.some((r) => r.special_use === def.specialUse)) continue;
        const sameName = rows.find((r) => r.name === def.name);
        if (sameName) {
          await c.query(`UPDATE folder SET special_use = $2 WHERE id = $1`, [sameName.id, def.specialUse]);
        } else {
          await this.insertFolder(c, mailboxId, def.name, def.specialUse, true);
        }
        changed = true;
      }
      if (changed) events.push({ mailboxId, event: foldersEvent() });
    });
    return this.listFolders(mailboxId);
  }

  async listFolders(mailboxId: string): Promise<Folder[]> {
    if (!UUID.test(mailboxId)) return [];
    await this.ensureDefaultFolders([mailboxId]);
    const { rows } = await this.pool.query<FolderRow>(
      `SELECT ${FOLDER_COLUMNS} FROM folder WHERE mailbox_id = $1 ORDER BY name <> 'INBOX', name`, [mailboxId],
    );
    return rows.map(toFolder);
  }

  async getFolder(mailboxId: string, ref: FolderRef): Promise<Folder> {
    await this.ensureDefaultFolders([mailboxId]);
    return toFolder(await this.findFolder(this.pool, mailboxId, ref));
  }

  /**
   * Mailboxes get their default folders when they are made, except from a bulk import, which defers
   * them for speed (see the mailbox_default_folders trigger): such a mailbox gets them at first use.
   */
  private async ensureDefaultFolders(mailboxIds: string[]): Promise<void> {
    const ids = [...new Set(mailboxIds)].filter((id) => UUID.test(id));
    if (!ids.length) return;
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT m.id FROM mailbox m WHERE m.id = ANY($1) AND NOT EXISTS (SELECT 1 FROM folder f WHERE f.mailbox_id = m.id)`, [ids],
    );
    for (const r of rows) await this.createDefaultFolders(r.id);
  }

  async createFolder(mailboxId: string, name: string, opts: { specialUse?: SpecialUse; subscribed?: boolean } = {}): Promise<Folder> {
    const normalized = normalizeFolderName(name);
    return this.transaction(async (c, events) => {
      await this.lockMailboxes(c, [mailboxId]);
      const existing = await this.folderNames(c, mailboxId);
      if (existing.has(normalized)) throw new FolderExistsError(normalized);
      for (const parent of parentNames(normalized)) {
        if (!existing.has(parent)) await this.insertFolder(c, mailboxId, parent, null, opts.subscribed ?? true);
      }
      const specialUse = opts.specialUse ?? (normalized === INBOX ? 'inbox' : null);
      const folder = await this.insertFolder(c, mailboxId, normalized, specialUse, opts.subscribed ?? true);
      events.push({ mailboxId, event: foldersEvent() });
      return folder;
    });
  }

  async renameFolder(mailboxId: string, ref: FolderRef, newName: string): Promise<Folder> {
    const target = normalizeFolderName(newName);
    return this.transaction(async (c, events) => {
      const folder = await this.findFolder(c, mailboxId, ref);
      const existing = await this.folderNames(c, mailboxId);
      if (folder.name === INBOX) {
        // RFC 3501: renaming INBOX moves its messages to the new folder; INBOX stays, empty; its children stay.
        if (existing.has(target)) throw new FolderExistsError(target);
        const [locked] = await this.lockFolders(c, [folder.id]);
        await this.lockMailboxes(c, [mailboxId]);
        for (const parent of parentNames(target)) {
          if (!existing.has(parent)) await this.insertFolder(c, mailboxId, parent, null, true);
        }
        const created = await this.insertFolder(c, mailboxId, target, null, locked.subscribed);
        const createdRow = await this.lockFolders(c, [created.id]);
        const moved = await this.moveRows(c, locked, createdRow[0], null, events);
        events.push({ mailboxId, event: foldersEvent() });
        return moved.target;
      }
      if (existing.has(target)) throw new FolderExistsError(target);
      if (isSameOrChild(target, folder.name)) throw new InvalidFolderNameError(target, `it is ${folder.name} itself or inside it`);
      const subtree = [...existing.keys()].filter((n) => isSameOrChild(n, folder.name));
      const renamed = subtree.map((n) => target + n.slice(folder.name.length));
      const clash = renamed.find((n) => existing.has(n) || (n.toUpperCase() === INBOX));
      if (clash) throw new FolderExistsError(clash);
      const { rows: subtreeRows } = await c.query<{ id: string }>(
        `SELECT id FROM folder WHERE mailbox_id = $1 AND name = ANY($2) ORDER BY id FOR NO KEY UPDATE`, [mailboxId, subtree],
      );
      await this.lockMailboxes(c, [mailboxId]);
      for (const parent of parentNames(target)) {
        if (!existing.has(parent)) await this.insertFolder(c, mailboxId, parent, null, true);
      }
      await c.query(
        `UPDATE folder SET name = $3 || substr(name, length($2) + 1)
          WHERE mailbox_id = $1 AND id = ANY($4) AND (name = $2 OR starts_with(name, $2 || '/'))`,
        [mailboxId, folder.name, target, subtreeRows.map((r) => r.id)],
      );
      events.push({ mailboxId, event: foldersEvent() });
      return toFolder(await this.findFolder(c, mailboxId, { id: folder.id }));
    });
  }

  async deleteFolder(mailboxId: string, ref: FolderRef): Promise<void> {
    await this.transaction(async (c, events) => {
      const found = await this.findFolder(c, mailboxId, ref);
      if (found.name === INBOX) throw new FolderOperationError(found.name, 'INBOX cannot be deleted');
      const [folder] = await this.lockFolders(c, [found.id]);
      const { rows } = await c.query(
        `SELECT 1 FROM folder WHERE mailbox_id = $1 AND starts_with(name, $2 || '/') LIMIT 1`, [mailboxId, folder.name],
      );
      if (rows.length > 0) throw new FolderOperationError(folder.name, 'it has subfolders; delete or move them first');
      await this.lockMailboxes(c, [mailboxId]);
      await c.query(
        `UPDATE mailbox SET used_bytes = used_bytes - $2, message_count = message_count - $3 WHERE id = $1`,
        [mailboxId, folder.size_bytes, folder.message_count],
      );
      // Messages and tombstones go by cascade; the refcount trigger releases their blobs.
      await c.query(`DELETE FROM folder WHERE id = $1`, [folder.id]);
      if (folder.subscribed) {
        await c.query(`INSERT INTO folder_subscription (mailbox_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [mailboxId, folder.name]);
      }
      events.push({ mailboxId, event: foldersEvent() });
    });
  }

  async setSubscribed(mailboxId: string, ref: FolderRef, subscribed: boolean): Promise<void> {
    await this.transaction(async (c, events) => {
      const name = 'name' in ref ? normalizeFolderName(ref.name) : null;
      if (name === null) {
        const folder = await this.findFolder(c, mailboxId, ref);
        await c.query(`UPDATE folder SET subscribed = $2 WHERE id = $1`, [folder.id, subscribed]);
      } else {
        // The mailbox lock orders this against a concurrent CREATE / DELETE of the same name.
        await this.lockMailboxes(c, [mailboxId]);
        const { rowCount } = await c.query(`UPDATE folder SET subscribed = $3 WHERE mailbox_id = $1 AND name = $2`, [mailboxId, name, subscribed]);
        if (!rowCount) {
          const detached = subscribed
            ? await c.query(`INSERT INTO folder_subscription (mailbox_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [mailboxId, name])
            : await c.query(`DELETE FROM folder_subscription WHERE mailbox_id = $1 AND name = $2`, [mailboxId, name]);
          if (!subscribed && !detached.rowCount) throw new FolderNotFoundError(name);
        }
      }
      events.push({ mailboxId, event: foldersEvent() });
    });
  }

  async listDetachedSubscriptions(mailboxId: string): Promise<string[]> {
    if (!UUID.test(mailboxId)) return [];
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT name FROM folder_subscription WHERE mailbox_id = $1 ORDER BY name COLLATE "C"`, [mailboxId],
    );
    return rows.map((r) => r.name);
  }

  async folderStatus(folderId: string): Promise<Folder> {
    return toFolder(await this.folderById(this.pool, folderId));
  }

  async quota(mailboxId: string): Promise<QuotaUsage> {
    const { rows } = UUID.test(mailboxId)
      ? await this.pool.query(`SELECT used_bytes, message_count, quota_bytes FROM mailbox WHERE id = $1`, [mailboxId])
      : { rows: [] };
    if (rows.length === 0) throw new MailboxNotFoundError(mailboxId);
    return { usedBytes: Number(rows[0].used_bytes), messageCount: rows[0].message_count, quotaBytes: Number(rows[0].quota_bytes) };
  }

  // ---------------------------------------------------------------- messages

  async append(mailboxId: string, folder: FolderRef, message: NewMessage, opts: AppendOptions): Promise<AppendResult> {
    const [outcome] = await this.appendMany([{ mailboxId, folder, message, enforceQuota: opts.enforceQuota }]);
    if (!outcome.ok) throw outcome.error;
    const { ok: _ok, ...result } = outcome;
    return result;
  }

  async appendMany(deliveries: Delivery[]): Promise<DeliveryOutcome[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.appendBatch(deliveries);
      } catch (err) {
        // A concurrent delivery committed one of our keys after we looked: the next attempt finds it as earlier.
        if (!(err instanceof DeliveryKeyRace) || attempt >= 5) throw err;
      }
    }
  }

  /** One attempt of appendMany: every new copy in one transaction, its messages in one multi-row insert. */
  private async appendBatch(deliveries: Delivery[]): Promise<DeliveryOutcome[]> {
    const outcomes: Array<DeliveryOutcome | undefined> = new Array(deliveries.length);
    const prepared = deliveries.map((d, i) => {
      try {
        const folder = 'id' in d.folder ? d.folder : { name: normalizeFolderName(d.folder.name) };
        return { i, d, folder };
      } catch {
        outcomes[i] = { ok: false, error: new FolderNotFoundError('name' in d.folder ? d.folder.name : d.folder.id) };
        return null;
      }
    }).filter((p) => p !== null);

    // Retried deliveries answer from the earlier message without taking any lock.
    const keys = prepared.map((p) => p.d.message.deliveryKey).filter((k): k is string => !!k);
    const hashes = [...new Set(prepared.map((p) => p.d.message.blobHash))];
    const mailboxIds = [...new Set(deliveries.map((d) => d.mailboxId))].filter((id) => UUID.test(id));
    // Earlier deliveries, blob sizes and mailboxes still without folders (see ensureDefaultFolders) in one round trip
    // (each costs as much as a small insert).
    const { rows: [found] } = await this.pool.query<{
      delivered: DeliveredRow[] | null; blobs: Array<{ hash: string; size: number }> | null; bare: string[] | null;
    }>(
      `SELECT (${DELIVERED_JSON} WHERE m.delivery_key = ANY($1)) AS delivered,
              (SELECT json_agg(json_build_object('hash', hash, 'size', size)) FROM blob WHERE hash = ANY($2)) AS blobs,
              (SELECT array_agg(m.id) FROM mailbox m
                WHERE m.id = ANY($3::uuid[]) AND NOT EXISTS (SELECT 1 FROM folder f WHERE f.mailbox_id = m.id)) AS bare`,
      [keys, hashes, mailboxIds],
    );
    for (const id of found.bare ?? []) await this.createDefaultFolders(id);
    const earlier = new Map((found.delivered ?? []).map((r) => [r.delivery_key, deliveredResult(r)]));
    const blobSizes = new Map<string, number>();
    for (const r of found.blobs ?? []) blobSizes.set(r.hash, Number(r.size));
    // A key given twice in this call is stored once; the repeat answers like a retry of the first.
    const firstWithKey = new Map<string, number>();
    const repeats: Array<{ i: number; first: number }> = [];
    const todo = prepared.filter((p) => {
      const key = p.d.message.deliveryKey;
      const dup = key ? earlier.get(key) : undefined;
      if (dup) outcomes[p.i] = { ok: true, ...dup };
      else if (!blobSizes.has(p.d.message.blobHash)) outcomes[p.i] = { ok: false, error: new BlobNotStoredError(p.d.message.blobHash) };
      else if (key && firstWithKey.has(key)) repeats.push({ i: p.i, first: firstWithKey.get(key)! });
      else {
        if (key) firstWithKey.set(key, p.i);
        return true;
      }
      return false;
    });

    if (todo.length > 0) {
      await this.transaction(async (c, events) => {
        const folderIds = todo.flatMap((p) => ('id' in p.folder && UUID.test(p.folder.id) ? [p.folder.id] : []));
        const named = todo.flatMap((p) => ('name' in p.folder && UUID.test(p.d.mailboxId) ? [[p.d.mailboxId, p.folder.name]] : []));
        const { rows: folderRows } = await c.query<FolderRow>(
          `SELECT ${FOLDER_COLUMNS} FROM folder
            WHERE id = ANY($1::uuid[])
               OR (mailbox_id, name) IN (SELECT * FROM unnest($2::uuid[], $3::text[]))
            ORDER BY id FOR NO KEY UPDATE`,
          [folderIds, named.map((n) => n[0]), named.map((n) => n[1])],
        );
        const folderOf = (p: (typeof todo)[number]) => folderRows.find((f) =>
          f.mailbox_id === p.d.mailboxId && ('id' in p.folder ? f.id === p.folder.id : f.name === p.folder.name));
        const mailboxes = await this.lockMailboxes(c, [...new Set(folderRows.map((f) => f.mailbox_id))]);
        const used = new Map(mailboxes.map((m) => [m.id, { used: Number(m.used_bytes), quota: Number(m.quota_bytes), bytes: 0, count: 0 }]));
        const touched = new Map<string, { row: FolderRow; uidNext: number; modseq: number; count: number; unseen: number; bytes: number; uids: number[] }>();
        const rows: NewMessageRow[] = [];
        const placed: Array<{ i: number; folder: FolderRow; uid: number; modseq: number; size: number }> = [];

        for (const p of todo) {
          const row = folderOf(p);
          if (!row) {
            outcomes[p.i] = { ok: false, error: new FolderNotFoundError('id' in p.folder ? p.folder.id : p.folder.name) };
            continue;
          }
          const m = p.d.message;
          const headerPrefix = stripNul(m.headerPrefix ?? '');
          const size = servedSize(headerPrefix, blobSizes.get(m.blobHash)!);
          const usage = used.get(row.mailbox_id)!;
          if (p.d.enforceQuota && usage.used + usage.bytes + size > usage.quota) {
            outcomes[p.i] = { ok: false, error: new QuotaExceededError(row.mailbox_id, size, usage.used + usage.bytes, usage.quota) };
            continue;
          }
          let t = touched.get(row.id);
          if (!t) touched.set(row.id, (t = { row, uidNext: row.uid_next, modseq: Number(row.highest_modseq), count: 0, unseen: 0, bytes: 0, uids: [] }));
          const flags = normalizeFlags(m.flags ?? []);
          const uid = t.uidNext;
          const modseq = t.modseq + 1;
          const sort = m.sortFields ?? {};
          rows.push({
            mailbox_id: row.mailbox_id, folder_id: row.id, uid, modseq, flags: flags.map(stripNul), internal_date: m.internalDate ?? this.now(),
            size, blob_hash: m.blobHash, header_prefix: headerPrefix, summary: m.summary ?? null, subject: text(sort.subject),
            base_subject: text(sort.baseSubject), from_addr: text(sort.from), to_addr: text(sort.to), cc_addr: text(sort.cc),
            sent_date: sort.sentDate ?? null, message_id: text(sort.messageId), in_reply_to: text(sort.inReplyTo),
            refs: (sort.references ?? []).map(stripNul), attachment_names: (sort.attachmentNames ?? []).map(stripNul),
            ...searchKeyColumns(m.searchKeys), delivery_key: m.deliveryKey ?? null,
            ...imapFormatColumns(m.summary), search_fields: withoutNul(searchFieldsOf(m.summary, sort.references)),
          });
          placed.push({ i: p.i, folder: row, uid, modseq, size });
          t.uidNext = uid + 1;
          t.modseq = modseq;
          t.count += 1;
          t.unseen += hasFlag(flags, SEEN) ? 0 : 1;
          t.bytes += size;
          t.uids.push(uid);
          usage.bytes += size;
          usage.count += 1;
        }

        const folders = [...touched.values()];
        if (folders.length === 0) return;
        const charged = [...used.entries()].filter(([, u]) => u.count > 0);
        // The messages, their folders' counters and the mailboxes' usage in one statement (the rows are locked above).
        const { rows: inserted } = await c.query<{ id: string; folder_id: string; uid: number }>(
          `WITH r AS MATERIALIZED (SELECT * FROM json_to_recordset($1::json) AS r(mailbox_id uuid, folder_id uuid, uid integer,
               modseq bigint, flags text[], internal_date timestamptz, size integer, blob_hash text, header_prefix text, summary jsonb,
               subject text, base_subject text, from_addr text, to_addr text, cc_addr text, sent_date timestamptz, message_id text,
               in_reply_to text, refs text[], attachment_names text[], search_keys text, spool_id uuid, delivery_key text, imap_envelope text,
               imap_bodystructure text, search_fields jsonb)),
           ins AS (INSERT INTO message (mailbox_id, folder_id, uid, modseq, flags, internal_date, size, blob_hash, header_prefix,
             summary, subject, base_subject, from_addr, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs,
             attachment_names, delivery_key, imap_envelope, imap_bodystructure, search_fields)
           SELECT mailbox_id, folder_id, uid, modseq, flags, internal_date, size, blob_hash, header_prefix, summary, subject,
             base_subject, from_addr, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs, attachment_names,
             delivery_key, imap_envelope, imap_bodystructure, search_fields
             FROM r
           ON CONFLICT (delivery_key) DO NOTHING RETURNING id, folder_id, uid),
           -- The keys once per blob, never per copy (migration 1765450000000): a blob already indexed keeps its keys,
           -- so the recipients of one delivery, and later copies, cost the index nothing. Empty sets are not stored.
           ks AS (INSERT INTO blob_search (blob_hash, keys)
             SELECT DISTINCT ON (blob_hash) blob_hash, keys
               FROM (SELECT r.blob_hash, CASE WHEN r.spool_id IS NULL THEN ('{' || r.search_keys || '}')::int8[]
                            ELSE (SELECT s.search_keys FROM spool_message s WHERE s.id = r.spool_id) END AS keys
                       FROM r WHERE NOT EXISTS (SELECT 1 FROM blob_search b WHERE b.blob_hash = r.blob_hash)) k
              WHERE cardinality(keys) > 0 ORDER BY blob_hash
           ON CONFLICT (blob_hash) DO NOTHING),
           f AS (UPDATE folder f SET uid_next = d.uid_next, highest_modseq = d.modseq, message_count = f.message_count + d.n,
                   unseen_count = f.unseen_count + d.unseen, size_bytes = f.size_bytes + d.bytes
                  FROM unnest($2::uuid[], $3::int[], $4::bigint[], $5::int[], $6::int[], $7::bigint[]) AS d(id, uid_next, modseq, n, unseen, bytes)
                 WHERE f.id = d.id),
           mb AS (UPDATE mailbox m SET used_bytes = m.used_bytes + d.bytes, message_count = m.message_count + d.n
                  FROM unnest($8::uuid[], $9::bigint[], $10::int[]) AS d(id, bytes, n) WHERE m.id = d.id)
           SELECT id, folder_id, uid FROM ins`,
          [jsonForPostgres(rows),
            folders.map((t) => t.row.id), folders.map((t) => t.uidNext), folders.map((t) => t.modseq), folders.map((t) => t.count),
            folders.map((t) => t.unseen), folders.map((t) => t.bytes),
            charged.map(([id]) => id), charged.map(([, u]) => u.bytes), charged.map(([, u]) => u.count)],
        );
        // A key committed by a concurrent delivery after we looked: this attempt would leave a gap in the UIDs.
        if (inserted.length < rows.length) throw new DeliveryKeyRace();
        const ids = new Map(inserted.map((r) => [`${r.folder_id}:${r.uid}`, r.id]));
        for (const x of placed) {
          outcomes[x.i] = {
            ok: true, messageId: ids.get(`${x.folder.id}:${x.uid}`)!, folderId: x.folder.id, uid: x.uid,
            uidValidity: Number(x.folder.uid_validity), modseq: x.modseq, size: x.size, duplicate: false,
          };
        }
        for (const t of folders) {
          events.push({ mailboxId: t.row.mailbox_id, event: { type: 'exists', folderId: t.row.id, uids: t.uids, modseq: t.modseq } });
        }
      });
    }
    for (const r of repeats) {
      const first = outcomes[r.first]!;
      outcomes[r.i] = first.ok ? { ...first, duplicate: true } : first;
    }
    return outcomes.map((o) => o!);
  }

  async viewFolder(mailboxId: string, ref: FolderRef): Promise<FolderView> {
    const label = 'id' in ref ? ref.id : ref.name;
    if (!UUID.test(mailboxId) || ('id' in ref && !UUID.test(ref.id))) throw new FolderNotFoundError(label);
    const params = 'id' in ref ? [ref.id, mailboxId] : [mailboxId, safeFolderName(ref.name)];
    const where = 'id' in ref ? 'id = $1 AND mailbox_id = $2' : 'mailbox_id = $1 AND name = $2';
    const run = () => this.pool.query<FolderViewRow>(`
      WITH f AS (SELECT ${FOLDER_COLUMNS} FROM folder WHERE ${where})
      SELECT f.*, ${FOLDER_VIEW_COLUMNS}
        FROM f CROSS JOIN LATERAL (SELECT (SELECT min(uid) FROM message WHERE folder_id = f.id) AS lo,
                                          (SELECT max(uid) FROM message WHERE folder_id = f.id) AS hi) b`, params);
    let { rows } = await run();
    if (rows.length === 0) {
      // A bulk-imported mailbox gets its default folders at first use (see ensureDefaultFolders).
      await this.ensureDefaultFolders([mailboxId]);
      ({ rows } = await run());
    }
    if (rows.length === 0) throw new FolderNotFoundError(label);
    const r = rows[0];
    const uidRuns = r.lo === null ? [] : r.runs === null ? [{ from: r.lo, to: r.hi! }] : parseRuns(r.runs);
    return { folder: toFolder(r), uidRuns, firstUnseenUid: r.first_unseen, keywords: r.keywords };
  }

  async listMessages(folderId: string, query: ListMessagesQuery = {}): Promise<MessageRecord[]> {
    const params: unknown[] = [folderId];
    const where: string[] = ['m.folder_id = $1'];
    let from = 'message m';
    let seqColumn = '';
    if (query.uids) {
      const r = mergeRanges(query.uids);
      params.push(r.map((x) => x.from), r.map((x) => x.to), ...uidBounds(r));
      // The bounds let the (folder_id, uid) index scan only the span asked for; EXISTS alone reads the whole folder.
      where.push(`m.uid BETWEEN $${params.length - 1} AND $${params.length}`,
        `EXISTS (SELECT 1 FROM unnest($${params.length - 3}::int[], $${params.length - 2}::int[]) r(lo, hi) WHERE m.uid BETWEEN r.lo AND r.hi)`);
    }
    if (query.seqs) {
      const r = mergeRanges(query.seqs);
      params.push(r.map((x) => x.from), r.map((x) => x.to));
      from = `(SELECT uid, row_number() OVER (ORDER BY uid) AS seq FROM message WHERE folder_id = $1) n
        JOIN message m ON m.folder_id = $1 AND m.uid = n.uid`;
      where.push(`EXISTS (SELECT 1 FROM unnest($${params.length - 1}::bigint[], $${params.length}::bigint[]) r(lo, hi) WHERE n.seq BETWEEN r.lo AND r.hi)`);
      seqColumn = ', n.seq';
    }
    if (query.changedSince !== undefined) {
      params.push(query.changedSince);
      where.push(`m.modseq > $${params.length}`);
    }
    const columns = [
      'm.id', 'm.uid', 'm.modseq', 'm.flags', 'm.size', 'm.internal_date', 'm.blob_hash',
      ...(query.withSummary === false ? [] : ['m.summary']),
      ...(query.withSource ? ['m.header_prefix'] : []),
      ...(query.withImapFormat ? ['m.imap_envelope', 'm.imap_bodystructure'] : []),
      ...(query.withSortFields ? ['m.subject', 'm.base_subject', 'm.from_addr', 'm.to_addr', 'm.cc_addr', 'm.sent_date',
        'm.message_id', 'm.in_reply_to', 'm.refs', 'm.attachment_names'] : []),
      ...(query.withThreadId ? ['m.thread_id'] : []),
    ];
    if (!UUID.test(folderId)) throw new FolderNotFoundError(folderId);
    const { rows } = await this.pool.query<ListedRow>(
      `SELECT ${columns.join(', ')}${seqColumn} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY m.uid`, params,
    );
    if (rows.length === 0) await this.folderById(this.pool, folderId);
    return rows.map((r) => toMessageRecord(r, query));
  }

  async getMessageSource(messageId: string, range?: BlobRange): Promise<Readable> {
    const { rows } = /^\d{1,18}$/.test(messageId)
      ? await this.pool.query<{ header_prefix: string; blob_hash: string; blob_size: string }>(
        `SELECT m.header_prefix, m.blob_hash, b.size AS blob_size FROM message m JOIN blob b ON b.hash = m.blob_hash WHERE m.id = $1`,
        [messageId],
      )
      : { rows: [] };
    if (rows.length === 0) throw new MessageNotFoundError(messageId);
    return composeMessageSource(this.blobs, rows[0].header_prefix, rows[0].blob_hash, Number(rows[0].blob_size), range);
  }

  async readMessage(record: MessageRecord, range?: BlobRange): Promise<Buffer> {
    const prefix = record.headerPrefix;
    if (prefix === undefined) return readStream(await this.getMessageSource(record.id, range));
    return readMessageBytes(this.blobs, prefix, record.blobHash, record.size - Buffer.byteLength(prefix, 'utf8'), range);
  }

  /**
   * One statement over the whole set: the new flags computed, the changed rows updated, the folder's MODSEQ and unseen
   * count moved, in PostgreSQL (message-rules.ts applyFlagMode/sameFlags are its definition), with only the changed
   * rows coming back; STORE 1:* on a large folder no longer ships every row to the node and back.
   */
  async setFlags(folderId: string, uids: NumberRange[], mode: FlagMode, flags: string[], opts: { unchangedSince?: number } = {}): Promise<SetFlagsResult> {
    return this.transaction(async (c, events) => {
      const [folder] = await this.lockFolders(c, [folderId]);
      const modseq = Number(folder.highest_modseq) + 1;
      const r = mergeRanges(uids);
      const given = normalizeFlags(flags).map(stripNul);
      const params: unknown[] = [folderId, modseq, r.map((x) => x.from), r.map((x) => x.to), ...uidBounds(r), opts.unchangedSince ?? null,
        mode === 'remove' ? given.map((f) => f.toLowerCase()) : given];
      const { rows } = await c.query<{ kind: 'c' | 'f'; uid: number; flags: string[] | null }>(
        `WITH sel AS (
           SELECT m.id, m.uid, m.modseq, m.flags AS old, ${FLAG_MODE_SQL[mode]} AS next
             FROM message m
            WHERE m.folder_id = $1 AND m.uid BETWEEN $5 AND $6
              AND EXISTS (SELECT 1 FROM unnest($3::int[], $4::int[]) r(lo, hi) WHERE m.uid BETWEEN r.lo AND r.hi)),
         upd AS (
           UPDATE message m SET flags = s.next, modseq = $2 FROM sel s
            WHERE m.id = s.id AND (${FLAG_CHANGED_SQL[mode]}) AND ($7::bigint IS NULL OR s.modseq <= $7)
           RETURNING m.uid, m.flags, '\\Seen' = ANY (s.old) AS was_seen, '\\Seen' = ANY (m.flags) AS now_seen),
         f AS (
           UPDATE folder SET highest_modseq = $2, unseen_count = unseen_count - d.delta
             FROM (SELECT count(*) AS n, coalesce(sum((NOT was_seen)::int - (NOT now_seen)::int), 0) AS delta FROM upd) d
            WHERE id = $1 AND d.n > 0)
         SELECT 'c' AS kind, uid, flags FROM upd
         UNION ALL
         SELECT 'f', uid, NULL FROM sel WHERE $7::bigint IS NOT NULL AND modseq > $7
         ORDER BY 2`,
        params,
      );
      const changed: SetFlagsResult['changed'] = [];
      const failed: number[] = [];
      for (const row of rows) {
        if (row.kind === 'f') failed.push(row.uid);
        else changed.push({ uid: row.uid, modseq, flags: row.flags! });
      }
      if (changed.length === 0) return { changed, failed, highestModseq: Number(folder.highest_modseq) };
      events.push({ mailboxId: folder.mailbox_id, event: { type: 'flags', folderId, uids: changed.map((x) => x.uid), modseq } });
      return { changed, failed, highestModseq: modseq };
    });
  }

  async copy(folderId: string, uids: NumberRange[], targetFolderId: string, opts: { enforceQuota?: boolean } = {}): Promise<CopyResult> {
    return this.transaction(async (c, events) => {
      const locked = await this.lockFolders(c, [folderId, targetFolderId]);
      const target = locked.find((f) => f.id === targetFolderId)!;
      const rows = await this.selectMessages(c, folderId, uids);
      const modseq = Number(target.highest_modseq) + 1;
      if (rows.length === 0) return { uidValidity: Number(target.uid_validity), map: [], modseq: Number(target.highest_modseq) };
      const [mailbox] = await this.lockMailboxes(c, [target.mailbox_id]);
      const bytes = rows.reduce((s, r) => s + r.size, 0);
      if ((opts.enforceQuota ?? true) && Number(mailbox.used_bytes) + bytes > Number(mailbox.quota_bytes)) {
        throw new QuotaExceededError(target.mailbox_id, bytes, Number(mailbox.used_bytes), Number(mailbox.quota_bytes));
      }
      const map = rows.map((r, i) => ({ sourceUid: r.uid, targetUid: target.uid_next + i }));
      await c.query(
        `INSERT INTO message (mailbox_id, folder_id, uid, modseq, flags, internal_date, size, blob_hash, header_prefix,
           summary, subject, base_subject, from_addr, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs,
           attachment_names, imap_envelope, imap_bodystructure, search_fields)
         SELECT $1, $2, d.new_uid, $3, m.flags, m.internal_date, m.size, m.blob_hash, m.header_prefix,
           m.summary, m.subject, m.base_subject, m.from_addr, m.to_addr, m.cc_addr, m.sent_date, m.message_id, m.in_reply_to, m.refs,
           m.attachment_names, m.imap_envelope, m.imap_bodystructure, m.search_fields
           FROM message m JOIN unnest($4::bigint[], $5::int[]) AS d(id, new_uid) ON m.id = d.id
          ORDER BY d.new_uid`,
        [target.mailbox_id, target.id, modseq, rows.map((r) => r.id), map.map((x) => x.targetUid)],
      );
      const unseen = rows.filter((r) => !hasFlag(r.flags, SEEN)).length;
      await this.addToFolder(c, target.id, target.uid_next + rows.length, modseq, rows.length, unseen, bytes);
      await c.query(
        `UPDATE mailbox SET used_bytes = used_bytes + $2, message_count = message_count + $3 WHERE id = $1`,
        [target.mailbox_id, bytes, rows.length],
      );
      events.push({ mailboxId: target.mailbox_id, event: { type: 'exists', folderId: target.id, uids: map.map((x) => x.targetUid), modseq } });
      return { uidValidity: Number(target.uid_validity), map, modseq };
    });
  }

  async move(folderId: string, uids: NumberRange[], targetFolderId: string): Promise<MoveResult> {
    if (folderId === targetFolderId) throw new FolderOperationError(folderId, 'source and target of a move are the same folder');
    return this.transaction(async (c, events) => {
      const locked = await this.lockFolders(c, [folderId, targetFolderId]);
      const source = locked.find((f) => f.id === folderId)!;
      const target = locked.find((f) => f.id === targetFolderId)!;
      return this.moveRows(c, source, target, uids, events);
    });
  }

  async expunge(folderId: string, uids?: NumberRange[]): Promise<ExpungeResult> {
    return this.transaction(async (c, events) => {
      const [folder] = await this.lockFolders(c, [folderId]);
      await this.lockMailboxes(c, [folder.mailbox_id]);
      const params: unknown[] = [folderId, DELETED];
      let rangeFilter = '';
      if (uids) {
        const r = mergeRanges(uids);
        params.push(r.map((x) => x.from), r.map((x) => x.to));
        rangeFilter = `AND EXISTS (SELECT 1 FROM unnest($3::int[], $4::int[]) r(lo, hi) WHERE uid BETWEEN r.lo AND r.hi)`;
      }
      const { rows } = await c.query<{ id: string; uid: number; size: number; flags: string[] }>(
        `DELETE FROM message WHERE folder_id = $1 AND $2 = ANY(flags) ${rangeFilter} RETURNING id, uid, size, flags`, params,
      );
      if (rows.length === 0) return { uids: [], modseq: Number(folder.highest_modseq) };
      const expunged = rows.map((r) => r.uid).sort((a, b) => a - b);
      const modseq = Number(folder.highest_modseq) + 1;
      const bytes = rows.reduce((s, r) => s + r.size, 0);
      const unseen = rows.filter((r) => !hasFlag(r.flags, SEEN)).length;
      await this.tombstone(c, folderId, rows, modseq);
      await this.addToFolder(c, folderId, folder.uid_next, modseq, -rows.length, -unseen, -bytes);
      await c.query(
        `UPDATE mailbox SET used_bytes = used_bytes - $2, message_count = message_count - $3 WHERE id = $1`,
        [folder.mailbox_id, bytes, rows.length],
      );
      events.push({ mailboxId: folder.mailbox_id, event: { type: 'expunge', folderId, uids: expunged, modseq } });
      return { uids: expunged, modseq };
    });
  }

  async search(folderId: string, tokens: string[]): Promise<number[]> {
    await this.folderById(this.pool, folderId);
    const keys = searchKeys(tokens);
    const { rows } = keys.length === 0
      ? await this.pool.query<{ uid: number }>(`SELECT uid FROM message WHERE folder_id = $1 ORDER BY uid`, [folderId])
      : await this.pool.query<{ uid: number }>(
        // The blobs holding the keys, from the GIN index (blob_search_match, migration 1765450000000), then this folder's
        // rows of them: a blob other tenants also hold is found only through this folder's rows.
        `SELECT m.uid FROM message m
          WHERE m.folder_id = $1 AND m.blob_hash IN (SELECT blob_search_match($2::int8[])) ORDER BY m.uid`, [folderId, [...keys]],
      );
    return rows.map((r) => r.uid);
  }

  async searchMessages(folderId: string, query: StoreSearch, opts: { sort?: SortCriterion[]; withThreadKeys?: boolean } = {}): Promise<SearchHit[]> {
    if (!UUID.test(folderId)) throw new FolderNotFoundError(folderId);
    if (usesSearchFields(query) || opts.sort?.length || opts.withThreadKeys) await this.fillSearchFields(folderId);
    const params: unknown[] = [folderId];
    const where = compileSearch(query, params);
    const order = opts.sort?.length ? `${opts.sort.map((c) => `${SORT_EXPRESSIONS[c.key]}${c.reverse ? ' DESC' : ''}`).join(', ')}, m.uid` : 'm.uid';
    // References as one text split at a control character: node-pg parses a text[] per row far slower than a split.
    const thread = opts.withThreadKeys
      ? `, m.message_id, m.in_reply_to, array_to_string(m.refs, E'\\x01') AS refs, m.subject, ${FIELDS}->'s'->>'subject' AS base_subject,
         ${SORT_EXPRESSIONS.date} AS sent_time`
      : '';
    const { rows } = await this.pool.query<{
      uid: number; modseq: string; message_id?: string | null; in_reply_to?: string | null; refs?: string; subject?: string | null;
      base_subject?: string | null; sent_time?: string;
    }>(`SELECT m.uid, m.modseq${thread} FROM message m WHERE m.folder_id = $1 AND (${where}) ORDER BY ${order}`, params);
    if (rows.length === 0) await this.folderById(this.pool, folderId);
    return rows.map((r) => {
      const hit: SearchHit = { uid: r.uid, modseq: Number(r.modseq) };
      if (opts.withThreadKeys) {
        hit.thread = {
          messageId: r.message_id ?? null, inReplyTo: r.in_reply_to ?? null, references: r.refs ? r.refs.split('\x01') : [],
          subject: r.subject ?? null, baseSubject: r.base_subject ?? '', sentTime: Number(r.sent_time),
        };
      }
      return hit;
    });
  }

  /**
   * search_fields of rows stored before the column existed, made from their summaries (no blob is read), a batch at
   * a time; the partial index message_search_fields_missing_idx finds them, so a filled folder costs one probe.
   */
  private async fillSearchFields(folderId: string): Promise<void> {
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; summary: unknown; refs: string[] }>(
        `SELECT id, summary, refs FROM message WHERE folder_id = $1 AND search_fields IS NULL LIMIT ${FILL_BATCH}`, [folderId],
      );
      if (rows.length === 0) return;
      await this.pool.query(
        `UPDATE message m SET search_fields = d.fields FROM unnest($1::bigint[], $2::jsonb[]) AS d(id, fields)
          WHERE m.id = d.id AND m.search_fields IS NULL`,
        [rows.map((r) => r.id), rows.map((r) => JSON.stringify(withoutNul(searchFieldsOf(r.summary, r.refs))))],
      );
      if (rows.length < FILL_BATCH) return;
    }
  }

  async changesSince(folderId: string, modseq: number): Promise<ChangesSince> {
    if (!UUID.test(folderId)) throw new FolderNotFoundError(folderId);
    // One statement, one snapshot: the folder's HIGHESTMODSEQ (kind 0), tombstones (1) and changed messages (2).
    const { rows } = await this.pool.query<ChangeRow>(
      `SELECT 0 AS kind, NULL::bigint AS id, 0 AS uid, highest_modseq AS modseq, NULL::text[] AS flags, NULL::integer AS size,
              NULL::timestamptz AS internal_date, NULL::text AS blob_hash
         FROM folder WHERE id = $1
       UNION ALL
       SELECT 1, message_id, uid, modseq, NULL, NULL, NULL, NULL FROM expunged_message WHERE folder_id = $1 AND modseq > $2
       UNION ALL
       SELECT 2, id, uid, modseq, flags, size, internal_date, blob_hash FROM message WHERE folder_id = $1 AND modseq > $2
       ORDER BY kind, uid`,
      [folderId, modseq],
    );
    if (rows.length === 0 || rows[0].kind !== 0) throw new FolderNotFoundError(folderId);
    const vanished: number[] = [];
    const vanishedMessages: ChangesSince['vanishedMessages'] = [];
    const changed: MessageRecord[] = [];
    for (let i = 1; i < rows.length; i++) {
      const r = rows[i];
      if (r.kind === 1) {
        vanished.push(r.uid);
        vanishedMessages.push({ uid: r.uid, messageId: r.id, modseq: Number(r.modseq) });
      } else {
        changed.push({
          id: r.id!, uid: r.uid, modseq: Number(r.modseq), flags: r.flags!, size: r.size!, internalDate: r.internal_date!, blobHash: r.blob_hash!,
        });
      }
    }
    return { changed, vanished, vanishedMessages, highestModseq: Number(rows[0].modseq) };
  }

  async threadMessages(mailboxId: string, threadIds: string[]): Promise<Array<{ threadId: string; messageIds: string[] }>> {
    const wanted = threadIds.filter((id) => /^[1-9][0-9]{0,17}$/.test(id));
    if (!UUID.test(mailboxId) || wanted.length === 0) return [];
    const { rows } = await this.pool.query<{ thread_id: string; ids: string[] }>(
      `SELECT thread_id, array_agg(id::text ORDER BY internal_date, id) AS ids FROM message
        WHERE mailbox_id = $1 AND thread_id = ANY($2::bigint[]) GROUP BY thread_id`, [mailboxId, wanted],
    );
    const byId = new Map(rows.map((r) => [String(r.thread_id), r.ids]));
    return wanted.flatMap((id) => {
      const ids = byId.get(String(BigInt(id)));
      return ids ? [{ threadId: String(BigInt(id)), messageIds: ids }] : [];
    });
  }

  async messagesById(mailboxId: string, ids: string[], query: Pick<ListMessagesQuery, 'withSummary' | 'withSortFields' | 'withSource'> = {}): Promise<LocatedMessage[]> {
    const wanted = ids.filter((id) => /^[1-9][0-9]{0,17}$/.test(id));
    if (!UUID.test(mailboxId) || wanted.length === 0) return [];
    const columns = [
      'm.id', 'm.folder_id', 'm.uid', 'm.modseq', 'm.flags', 'm.size', 'm.internal_date', 'm.blob_hash', 'm.thread_id',
      ...(query.withSummary === false ? [] : ['m.summary']),
      ...(query.withSource ? ['m.header_prefix'] : []),
      ...(query.withSortFields ? ['m.subject', 'm.base_subject', 'm.from_addr', 'm.to_addr', 'm.cc_addr', 'm.sent_date',
        'm.message_id', 'm.in_reply_to', 'm.refs', 'm.attachment_names'] : []),
    ];
    const { rows } = await this.pool.query<ListedRow & { folder_id: string }>(
      `SELECT ${columns.join(', ')} FROM message m WHERE m.mailbox_id = $1 AND m.id = ANY($2::bigint[])`, [mailboxId, wanted],
    );
    const byId = new Map(rows.map((r) => [String(r.id), { ...toMessageRecord(r, { ...query, withThreadId: true }), folderId: r.folder_id }]));
    return wanted.flatMap((id) => byId.get(String(BigInt(id))) ?? []);
  }

  /**
   * A message's keys go to the GIN index's pending list as it is stored (a cheap append); merging them into the index
   * tree in bulk, many messages at once, costs a fraction of merging them message by message (a common key's posting
   * list is rewritten once per merge, not once per message: about a fifth of PostgreSQL's time per key in a large
   * index). The list is allowed to grow to 32 MB (the index's gin_pending_list_limit), so delivering transactions
   * leave the merge to this call, which never holds them up; SEARCH reads what is still pending, at most a few
   * seconds' worth.
   */
  async mergeSearchIndex(): Promise<number> {
    const { rows: [r] } = await this.pool.query<{ pages: string }>(`SELECT gin_clean_pending_list('blob_search_keys_idx'::regclass) AS pages`);
    return Number(r.pages);
  }

  async collectGarbage(): Promise<GarbageCollection> {
    const cutoff = new Date(this.now().getTime() - this.gcGraceMs);
    let deleted = 0;
    for (;;) {
      const batch = await this.transaction(async (c) => {
        // Row locks keep a concurrent putBlob lease or message insert waiting until this batch is gone.
        const { rows } = await c.query<{ hash: string }>(
          `SELECT hash FROM blob WHERE refcount = 0 AND touched_at < $1 ORDER BY hash LIMIT ${GC_BATCH} FOR UPDATE SKIP LOCKED`,
          [cutoff],
        );
        // Object first, row second: a crash in between leaves a row without object, which the next run deletes
        // (deleting a missing object is a no-op). The other order could leave an object no row points to, never collected.
        for (const r of rows) await this.blobs.delete(r.hash);
        await c.query(`DELETE FROM blob WHERE hash = ANY($1) AND refcount = 0`, [rows.map((r) => r.hash)]);
        return rows.length;
      });
      deleted += batch;
      if (batch < GC_BATCH) return { deleted };
    }
  }

  // ---------------------------------------------------------------- internals

  private async transaction<T>(work: (c: PoolClient, events: Events) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    const events: Events = [];
    let result: T;
    // A connection that dies mid-transaction reports through the query's rejection; the event would otherwise be
    // unhandled. Such a client, or one whose ROLLBACK failed, is destroyed instead of going back to the pool.
    let broken: Error | undefined;
    const onError = (err: Error) => { broken = err; };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      result = await work(c, events);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch((rollbackErr: Error) => { broken ??= rollbackErr; });
      throw mapPgError(err);
    } finally {
      // A broken client may still emit its error after this point; it keeps the listener until it is gone.
      if (!broken) c.off('error', onError);
      c.release(broken);
    }
    for (const { mailboxId, event } of events) {
      await this.notifier.publish(mailboxId, event).catch((err) => this.options.onNotifyError?.(err));
    }
    return result;
  }

  private async findFolder(c: Pool | PoolClient, mailboxId: string, ref: FolderRef): Promise<FolderRow> {
    const label = 'id' in ref ? ref.id : ref.name;
    if (!UUID.test(mailboxId) || ('id' in ref && !UUID.test(ref.id))) throw new FolderNotFoundError(label);
    const { rows } = 'id' in ref
      ? await c.query<FolderRow>(`SELECT ${FOLDER_COLUMNS} FROM folder WHERE id = $1 AND mailbox_id = $2`, [ref.id, mailboxId])
      : await c.query<FolderRow>(`SELECT ${FOLDER_COLUMNS} FROM folder WHERE mailbox_id = $1 AND name = $2`, [mailboxId, safeFolderName(ref.name)]);
    if (rows.length === 0) throw new FolderNotFoundError(label);
    return rows[0];
  }

  private async folderById(c: Pool | PoolClient, folderId: string): Promise<FolderRow> {
    const { rows } = UUID.test(folderId)
      ? await c.query<FolderRow>(`SELECT ${FOLDER_COLUMNS} FROM folder WHERE id = $1`, [folderId])
      : { rows: [] };
    if (rows.length === 0) throw new FolderNotFoundError(folderId);
    return rows[0];
  }

  /** Locks folders in id order (the first step of the global lock order); every id must exist. */
  private async lockFolders(c: PoolClient, ids: string[]): Promise<FolderRow[]> {
    const unique = [...new Set(ids)];
    const bad = unique.find((id) => !UUID.test(id));
    if (bad) throw new FolderNotFoundError(bad);
    const { rows } = await c.query<FolderRow>(`SELECT ${FOLDER_COLUMNS} FROM folder WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, [unique]);
    const missing = unique.find((id) => !rows.some((r) => r.id === id));
    if (missing) throw new FolderNotFoundError(missing);
    return ids.map((id) => rows.find((r) => r.id === id)!);
  }

  private async lockMailboxes(c: PoolClient, ids: string[]): Promise<Array<{ id: string; used_bytes: string; quota_bytes: string; last_uid_validity: string }>> {
    const unique = [...new Set(ids)];
    const bad = unique.find((id) => !UUID.test(id));
    if (bad) throw new MailboxNotFoundError(bad);
    const { rows } = await c.query(
      `SELECT id, used_bytes, quota_bytes, last_uid_validity FROM mailbox WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, [unique],
    );
    const missing = unique.find((id) => !rows.some((r) => r.id === id));
    if (missing) throw new MailboxNotFoundError(missing);
    return rows;
  }

  private async folderNames(c: PoolClient, mailboxId: string): Promise<Map<string, string>> {
    const { rows } = await c.query<{ id: string; name: string }>(`SELECT id, name FROM folder WHERE mailbox_id = $1`, [mailboxId]);
    return new Map(rows.map((r) => [r.name, r.id]));
  }

  /** Needs the mailbox row locked: UIDVALIDITY is clock-based and strictly increasing per mailbox. */
  private async insertFolder(c: PoolClient, mailboxId: string, name: string, specialUse: SpecialUse | null, subscribed: boolean): Promise<Folder> {
    const clock = Math.floor(this.now().getTime() / 1000);
    const { rows: [mailbox] } = await c.query<{ last_uid_validity: string }>(
      `UPDATE mailbox SET last_uid_validity = GREATEST($2::bigint, last_uid_validity + 1) WHERE id = $1 RETURNING last_uid_validity`,
      [mailboxId, clock],
    );
    // A name subscribed while it had no folder comes back subscribed.
    const { rowCount: wasSubscribed } = await c.query(`DELETE FROM folder_subscription WHERE mailbox_id = $1 AND name = $2`, [mailboxId, name]);
    const { rows } = await c.query<FolderRow>(
      `INSERT INTO folder (mailbox_id, name, special_use, subscribed, uid_validity) VALUES ($1, $2, $3, $4, $5) RETURNING ${FOLDER_COLUMNS}`,
      [mailboxId, name, specialUse, subscribed || !!wasSubscribed, mailbox.last_uid_validity],
    );
    return toFolder(rows[0]);
  }

  private async selectMessages(c: PoolClient, folderId: string, uids: NumberRange[]): Promise<MessageRow[]> {
    const r = mergeRanges(uids);
    const { rows } = await c.query<MessageRow>(
      `SELECT m.id, m.uid, m.modseq, m.flags, m.size, m.blob_hash FROM message m
        WHERE m.folder_id = $1 AND m.uid BETWEEN $4 AND $5
          AND EXISTS (SELECT 1 FROM unnest($2::int[], $3::int[]) r(lo, hi) WHERE m.uid BETWEEN r.lo AND r.hi)
        ORDER BY m.uid`,
      [folderId, r.map((x) => x.from), r.map((x) => x.to), ...uidBounds(r)],
    );
    return rows;
  }

  /** Moves rows in place (same id, delivery key kept) and leaves tombstones; both folders are locked by the caller. */
  private async moveRows(c: PoolClient, source: FolderRow, target: FolderRow, uids: NumberRange[] | null, events: Events): Promise<MoveResult & { target: Folder }> {
    const rows = uids ? await this.selectMessages(c, source.id, uids) : await this.selectMessages(c, source.id, [{ from: 1, to: 2 ** 31 - 1 }]);
    const sourceModseq = Number(source.highest_modseq) + 1;
    const targetModseq = Number(target.highest_modseq) + 1;
    if (rows.length === 0) {
      return { uidValidity: Number(target.uid_validity), map: [], modseq: Number(target.highest_modseq), sourceModseq: Number(source.highest_modseq), target: toFolder(target) };
    }
    const bytes = rows.reduce((s, r) => s + r.size, 0);
    const unseen = rows.filter((r) => !hasFlag(r.flags, SEEN)).length;
    if (source.mailbox_id !== target.mailbox_id) {
      const mailboxes = await this.lockMailboxes(c, [source.mailbox_id, target.mailbox_id]);
      const t = mailboxes.find((m) => m.id === target.mailbox_id)!;
      if (Number(t.used_bytes) + bytes > Number(t.quota_bytes)) throw new QuotaExceededError(t.id, bytes, Number(t.used_bytes), Number(t.quota_bytes));
      await c.query(
        `UPDATE mailbox SET used_bytes = used_bytes + (CASE WHEN id = $1 THEN -$3 ELSE $3 END)::bigint,
            message_count = message_count + (CASE WHEN id = $1 THEN -$4 ELSE $4 END)::int WHERE id IN ($1, $2)`,
        [source.mailbox_id, target.mailbox_id, bytes, rows.length],
      );
    }
    const map = rows.map((r, i) => ({ sourceUid: r.uid, targetUid: target.uid_next + i }));
    await c.query(
      `UPDATE message m SET folder_id = $1, mailbox_id = $2, uid = d.new_uid, modseq = $3
         FROM unnest($4::bigint[], $5::int[]) AS d(id, new_uid) WHERE m.id = d.id`,
      [target.id, target.mailbox_id, targetModseq, rows.map((r) => r.id), map.map((x) => x.targetUid)],
    );
    await this.tombstone(c, source.id, rows, sourceModseq);
    await this.addToFolder(c, source.id, source.uid_next, sourceModseq, -rows.length, -unseen, -bytes);
    await this.addToFolder(c, target.id, target.uid_next + rows.length, targetModseq, rows.length, unseen, bytes);
    events.push({ mailboxId: source.mailbox_id, event: { type: 'expunge', folderId: source.id, uids: map.map((x) => x.sourceUid), modseq: sourceModseq } });
    events.push({ mailboxId: target.mailbox_id, event: { type: 'exists', folderId: target.id, uids: map.map((x) => x.targetUid), modseq: targetModseq } });
    const targetNow = await this.folderById(c, target.id);
    return { uidValidity: Number(target.uid_validity), map, modseq: targetModseq, sourceModseq, target: toFolder(targetNow) };
  }

  /** The message id is kept for JMAP (Email/changes names destroyed messages by id). */
  private async tombstone(c: PoolClient, folderId: string, gone: Array<{ id: string; uid: number }>, modseq: number): Promise<void> {
    await c.query(
      `INSERT INTO expunged_message (folder_id, uid, modseq, message_id) SELECT $1, u, $3, i FROM unnest($2::int[], $4::bigint[]) g(u, i)
        ON CONFLICT (folder_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq, message_id = EXCLUDED.message_id`,
      [folderId, gone.map((r) => r.uid), modseq, gone.map((r) => r.id)],
    );
  }

  private async addToFolder(c: PoolClient, folderId: string, uidNext: number, modseq: number, count: number, unseen: number, bytes: number): Promise<void> {
    await c.query(
      `UPDATE folder SET uid_next = $2, highest_modseq = $3, message_count = message_count + $4,
          unseen_count = unseen_count + $5, size_bytes = size_bytes + $6 WHERE id = $1`,
      [folderId, uidNext, modseq, count, unseen, bytes],
    );
  }
}

/** A message row as appendMany inserts it (json_to_recordset column names). */
interface NewMessageRow {
  mailbox_id: string; folder_id: string; uid: number; modseq: number; flags: string[]; internal_date: Date; size: number;
  blob_hash: string; header_prefix: string; summary: unknown; subject: string | null; base_subject: string | null;
  from_addr: string | null; to_addr: string | null; cc_addr: string | null; sent_date: Date | null; message_id: string | null;
  in_reply_to: string | null; refs: string[]; attachment_names: string[]; search_keys: SearchKeyList | null; spool_id: string | null; delivery_key: string | null;
  imap_envelope: string | null; imap_bodystructure: string | null; search_fields: SearchFields;
}

function imapFormatColumns(summary: unknown): Pick<NewMessageRow, 'imap_envelope' | 'imap_bodystructure'> {
  const format = renderImapFormat(summary);
  return { imap_envelope: format?.envelope ?? null, imap_bodystructure: format?.bodyStructure ?? null };
}

/** appendMany lost a race for a delivery key; it rolls back and tries again. */
class DeliveryKeyRace extends Error {
  constructor() {
    super('a delivery key was stored concurrently');
  }
}

interface DeliveredRow { delivery_key: string; id: string; folder_id: string; uid: number; modseq: number; size: number; uid_validity: number }

/** Messages already stored under delivery keys, as one json array (ids as text: they are bigserial). */
const DELIVERED_JSON = `SELECT json_agg(json_build_object('delivery_key', m.delivery_key, 'id', m.id::text, 'folder_id', m.folder_id,
    'uid', m.uid, 'modseq', m.modseq, 'size', m.size, 'uid_validity', f.uid_validity))
  FROM message m JOIN folder f ON f.id = m.folder_id`;

function deliveredResult(r: DeliveredRow): AppendResult {
  return { messageId: r.id, folderId: r.folder_id, uid: r.uid, uidValidity: Number(r.uid_validity), modseq: Number(r.modseq), size: r.size, duplicate: true };
}

function toFolder(r: FolderRow): Folder {
  return {
    id: r.id, mailboxId: r.mailbox_id, name: r.name, specialUse: r.special_use, subscribed: r.subscribed,
    uidValidity: Number(r.uid_validity), uidNext: r.uid_next, highestModseq: Number(r.highest_modseq),
    messageCount: r.message_count, unseenCount: r.unseen_count, sizeBytes: Number(r.size_bytes),
  };
}

interface ListedRow {
  id: string; uid: number; seq?: string; modseq: string; flags: string[]; size: number; internal_date: Date; blob_hash: string;
  summary?: unknown; thread_id?: string; subject?: string | null; base_subject?: string | null; from_addr?: string | null; to_addr?: string | null;
  cc_addr?: string | null; sent_date?: Date | null; message_id?: string | null; in_reply_to?: string | null; refs?: string[];
  attachment_names?: string[]; header_prefix?: string; imap_envelope?: string | null; imap_bodystructure?: string | null;
}

interface ChangeRow {
  kind: number; id: string | null; uid: number; modseq: string; flags: string[] | null; size: number | null;
  internal_date: Date | null; blob_hash: string | null;
}

interface FolderViewRow extends FolderRow { lo: number | null; hi: number | null; runs: string | null; first_unseen: number | null; keywords: string[] }

/**
 * UID runs (gaps and islands) only when the folder has gaps: first and last UID come from the index and, when they
 * span exactly message_count UIDs, are the one run. The unseen and keyword subqueries repeat the predicates of the
 * partial indexes message_unseen_idx and message_keyword_idx, so they read only the rows those hold.
 */
const FOLDER_VIEW_COLUMNS = `b.lo, b.hi,
  CASE WHEN b.lo IS NULL OR b.hi - b.lo + 1 = f.message_count THEN NULL ELSE (
    SELECT string_agg(r.lo || ':' || r.hi, ',' ORDER BY r.lo)
      FROM (SELECT min(uid) AS lo, max(uid) AS hi
              FROM (SELECT uid, uid - row_number() OVER (ORDER BY uid) AS island FROM message WHERE folder_id = f.id) s
             GROUP BY island) r
  ) END AS runs,
  CASE WHEN f.unseen_count = 0 THEN NULL
       ELSE (SELECT min(uid) FROM message WHERE folder_id = f.id AND NOT ('\\Seen' = ANY (flags))) END AS first_unseen,
  ARRAY(SELECT k FROM message m, unnest(m.flags) WITH ORDINALITY AS u(k, o)
         WHERE m.folder_id = f.id AND NOT (m.flags <@ ARRAY['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft']::text[])
           AND left(k, 1) <> '\\'
         GROUP BY k ORDER BY min(m.uid), min(u.o)) AS keywords`;

/** `1:40,42:97` → runs. */
function parseRuns(text: string): NumberRange[] {
  return text.split(',').map((part) => {
    const colon = part.indexOf(':');
    return { from: Number(part.slice(0, colon)), to: Number(part.slice(colon + 1)) };
  });
}

function toMessageRecord(r: ListedRow, query: ListMessagesQuery): MessageRecord {
  const record: MessageRecord = {
    id: r.id, uid: r.uid, modseq: Number(r.modseq), flags: r.flags, size: r.size, internalDate: r.internal_date, blobHash: r.blob_hash,
  };
  if (query.seqs) record.seq = Number(r.seq);
  if (query.withSummary !== false) record.summary = r.summary;
  if (query.withSource) record.headerPrefix = r.header_prefix;
  if (query.withThreadId) record.threadId = String(r.thread_id);
  if (query.withImapFormat) {
    record.imapFormat = r.imap_envelope != null && r.imap_bodystructure != null ? { envelope: r.imap_envelope, bodyStructure: r.imap_bodystructure } : null;
  }
  if (query.withSortFields) {
    record.sortFields = {
      subject: r.subject, baseSubject: r.base_subject, from: r.from_addr, to: r.to_addr, cc: r.cc_addr, sentDate: r.sent_date,
      messageId: r.message_id, inReplyTo: r.in_reply_to, references: r.refs, attachmentNames: r.attachment_names,
    };
  }
  return record;
}

/**
 * New flags per STORE mode over `m.flags` (stored normalised) and $8 (given flags, normalised; lower-cased for
 * remove): message-rules.ts applyFlagMode, order kept.
 */
const FLAG_MODE_SQL: Record<FlagMode, string> = {
  replace: `$8::text[]`,
  add: `m.flags || ARRAY(SELECT g FROM unnest($8::text[]) WITH ORDINALITY AS a(g, o)
                         WHERE NOT EXISTS (SELECT 1 FROM unnest(m.flags) AS h WHERE lower(h) = lower(g)) ORDER BY o)`,
  remove: `ARRAY(SELECT g FROM unnest(m.flags) WITH ORDINALITY AS a(g, o) WHERE NOT lower(g) = ANY ($8::text[]) ORDER BY o)`,
};

/** message-rules.ts sameFlags negated, per mode: add and remove change a row exactly when they change its count. */
const FLAG_CHANGED_SQL: Record<FlagMode, string> = {
  add: `cardinality(s.next) > cardinality(s.old)`,
  remove: `cardinality(s.next) < cardinality(s.old)`,
  replace: `cardinality(s.next) <> cardinality(s.old)
    OR EXISTS (SELECT 1 FROM unnest(s.next) AS x WHERE NOT EXISTS (SELECT 1 FROM unnest(s.old) AS y WHERE lower(y) = lower(x)))`,
};

const FILL_BATCH = 2000;
const DAY_MS = 86_400_000;
/** The UTC day of the internal date in ms, as search-fields.ts dayOf computes it. */
const INTERNAL_DAY = `(floor(extract(epoch FROM m.internal_date) * 1000 / ${DAY_MS}) * ${DAY_MS})::bigint`;
const FIELDS = `m.search_fields`;

/** ORDER BY expressions of the sort keys (store-search.ts sortValue): strings by code point, as "C" collates UTF-8. */
const SORT_EXPRESSIONS: Record<SortCriterion['key'], string> = {
  arrival: 'm.internal_date',
  date: `coalesce((${FIELDS}->>'dt')::bigint, (extract(epoch FROM m.internal_date) * 1000)::bigint)`,
  size: 'm.size',
  subject: `(${FIELDS}->'s'->>'subject') COLLATE "C"`,
  from: `(${FIELDS}->'s'->>'from') COLLATE "C"`,
  to: `(${FIELDS}->'s'->>'to') COLLATE "C"`,
  cc: `(${FIELDS}->'s'->>'cc') COLLATE "C"`,
  displayfrom: `(${FIELDS}->'s'->>'dfrom') COLLATE "C"`,
  displayto: `(${FIELDS}->'s'->>'dto') COLLATE "C"`,
};

const SYSTEM_FLAG_NAMES = new Map(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'].map((f) => [f.toLowerCase(), f]));
/** Ranges with more parts than this are matched through a hashed set of UIDs rather than a chain of BETWEENs. */
const MAX_RANGE_TERMS = 16;

function usesSearchFields(key: StoreSearch): boolean {
  switch (key.op) {
    case 'header': return true;
    case 'date': return key.field === 'sent';
    case 'and': return key.keys.some(usesSearchFields);
    case 'or': return usesSearchFields(key.a) || usesSearchFields(key.b);
    case 'not': return usesSearchFields(key.key);
    default: return false;
  }
}

/**
 * A StoreSearch as a boolean SQL expression over `message m`, never NULL (NOT must stay exact); values go to params.
 * Semantics: store-search.ts matchesStoreSearch.
 */
function compileSearch(key: StoreSearch, params: unknown[]): string {
  const param = (value: unknown, cast = '') => {
    params.push(value);
    return `$${params.length}${cast}`;
  };
  switch (key.op) {
    case 'all': return 'TRUE';
    case 'and': return key.keys.length ? key.keys.map((k) => `(${compileSearch(k, params)})`).join(' AND ') : 'TRUE';
    case 'or': return `(${compileSearch(key.a, params)}) OR (${compileSearch(key.b, params)})`;
    case 'not': return `NOT (${compileSearch(key.key, params)})`;
    case 'flag': {
      const system = SYSTEM_FLAG_NAMES.get(key.flag.toLowerCase());
      const has = system
        ? `${param(system, '::text')} = ANY (m.flags)`
        : `EXISTS (SELECT 1 FROM unnest(m.flags) f WHERE lower(f) = ${param(key.flag.toLowerCase(), '::text')})`;
      return key.set ? has : `NOT (${has})`;
    }
    case 'uids': {
      const ranges = mergeRanges(key.ranges);
      if (ranges.length === 0) return 'FALSE';
      if (ranges.length <= MAX_RANGE_TERMS) {
        return ranges.map((r) => `m.uid BETWEEN ${param(r.from, '::int')} AND ${param(r.to, '::int')}`).join(' OR ');
      }
      const uids: number[] = [];
      for (const r of ranges) for (let u = r.from; u <= r.to; u++) uids.push(u);
      return `m.uid IN (SELECT unnest(${param(uids, '::int[]')}))`;
    }
    case 'size': return `m.size ${key.larger ? '>' : '<'} ${param(key.n, '::bigint')}`;
    case 'modseq': return `m.modseq >= ${param(key.n, '::bigint')}`;
    case 'date': {
      const day = key.field === 'internal' ? INTERNAL_DAY : `coalesce((${FIELDS}->>'sd')::bigint, ${INTERNAL_DAY})`;
      const op = key.cmp === 'before' ? '<' : key.cmp === 'on' ? '=' : '>=';
      return `${day} ${op} ${param(key.day, '::bigint')}`;
    }
    case 'header': {
      if (!isIndexedHeaderField(key.field)) throw new TypeError(`HEADER ${key.field} is not answered by the store`);
      const field = param(key.field, '::text');
      if (key.value === '') return `coalesce((${FIELDS}->'h') ? ${field}, FALSE)`;
      return `coalesce(strpos(${FIELDS}->'h'->>${field}, ${param(key.value, '::text')}) > 0, FALSE)`;
    }
  }
}

function foldersEvent(): MailboxEvent {
  return { type: 'folders', folderId: null, uids: [], modseq: null };
}

/** Lowest and highest UID of merged ranges (an empty span when there are none). */
function uidBounds(merged: NumberRange[]): [number, number] {
  return merged.length ? [merged[0].from, merged[merged.length - 1].to] : [1, 0];
}

/** Sorted, overlapping and adjacent ranges joined, so a range join never returns a message twice. */
function mergeRanges(ranges: NumberRange[]): NumberRange[] {
  const sorted = normalizeRanges(ranges).sort((a, b) => a.from - b.from);
  const out: NumberRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/**
 * A message's keys as given (checked: PostgreSQL would refuse a malformed list, with the whole batch), or the spooled
 * message whose keys the insert copies.
 */
function searchKeyColumns(keys: NewMessage['searchKeys']): { search_keys: SearchKeyList | null; spool_id: string | null } {
  if (keys === undefined) return { search_keys: '', spool_id: null };
  if (typeof keys === 'object') {
    if (!UUID.test(keys.spoolMessageId)) throw new TypeError('searchKeys.spoolMessageId is not a spool message id');
    return { search_keys: null, spool_id: keys.spoolMessageId };
  }
  if (!isSearchKeyList(keys)) throw new TypeError('searchKeys is not a search key list (libs/domain search-key.ts)');
  return { search_keys: keys, spool_id: null };
}

// PostgreSQL text and jsonb cannot hold NUL characters, which hostile headers do contain.
function stripNul(value: string): string {
  return value.includes('\0') ? value.replace(/\0/g, '') : value;
}

function text(value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : stripNul(value);
}

function safeFolderName(name: string): string {
  try {
    return normalizeFolderName(name);
  } catch {
    throw new FolderNotFoundError(name);
  }
}

function mapPgError(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e.code === '23505' && e.constraint?.startsWith('folder_mailbox_')) {
    return e.constraint === 'folder_mailbox_special_use_key'
      ? new FolderOperationError('special-use', 'another folder already has this special use')
      : new FolderExistsError(e.detail ?? 'folder');
  }
  if (e.code === '23503' && e.constraint === 'message_blob_hash_fkey') return new BlobNotStoredError(e.detail ?? 'blob');
  return err;
}

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
