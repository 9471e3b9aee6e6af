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
  type ExpungeResult, type FlagMode, type LocatedMessage, type MailboxHit, type MailboxQuery, type MailboxSearch, type MailboxSort, type Folder, type FolderRef, type FolderView, type GarbageCollection, type ListMessagesQuery,
  type MessageRecord, type MessageStore, type MoveResult, type NewMessage, type NumberRange,
  type QuotaUsage, type SearchHit, type SetFlagsResult, type SortCriterion, type SpecialUse, type StoreSearch,
} from '../ports/message-store';
import { eventDetail, type MailboxEvent, type Notifier } from '../ports/notifier';
import {
  DELETED, SEEN, hasFlag, isSameOrChild, normalizeFlags, normalizeFolderName, normalizeRanges,
  parentNames, servedSize,
} from '../message-rules';
import { GroupCommit } from '../group-commit';
import { jsonForPostgres } from '../json-for-postgres';
import { composeMessageSource, readMessageBytes } from '../message-source';
import { parseHeaderBlock } from '@dizi/mime/mime-header';
import { isIndexedHeaderField, LATE_HEADER_FIELDS, listIdText, searchFieldsOf, withoutNul, type SearchFields } from '../search-fields';
import { renderImapFormat } from '../stored-imap-format';
import { lockedWrite } from './one-round-trip';

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

  // A mailbox always has INBOX once it has folders at all, so the bulk-import check (ensureDefaultFolders) runs only
  // when a read finds nothing: one query per LIST, STATUS or SELECT instead of two.
  async listFolders(mailboxId: string): Promise<Folder[]> {
    if (!UUID.test(mailboxId)) return [];
    const run = () => this.pool.query<FolderRow>(
      `SELECT ${FOLDER_COLUMNS} FROM folder WHERE mailbox_id = $1 ORDER BY name <> 'INBOX', name`, [mailboxId],
    );
    let { rows } = await run();
    if (rows.length === 0) {
      await this.ensureDefaultFolders([mailboxId]);
      ({ rows } = await run());
    }
    return rows.map(toFolder);
  }

  async getFolder(mailboxId: string, ref: FolderRef): Promise<Folder> {
    try {
      return toFolder(await this.findFolder(this.pool, mailboxId, ref));
    } catch (err) {
      if (!(err instanceof FolderNotFoundError)) throw err;
      await this.ensureDefaultFolders([mailboxId]);
      return toFolder(await this.findFolder(this.pool, mailboxId, ref));
    }
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
        // What the attempt was planned on changed before it held the locks (a delivery key stored, a folder gone, a
        // mailbox's usage moved past a decision): it wrote nothing, and the next attempt plans on what is there now.
        if (!(err instanceof AppendRace) || attempt >= APPEND_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * One attempt of appendMany. Planned from one unlocked read (earlier deliveries, blob sizes, folders, mailbox usage),
   * then written in one round trip (lockedWrite): under the folders' and mailboxes' locks one statement checks the
   * plan still holds (no key stored since, every folder there, every quota decision the same on the usage now),
   * allocates each folder's UIDs and MODSEQs from uid_next/highest_modseq, inserts every message in one multi-row
   * insert and moves the folders' and mailboxes' counters by deltas. A plan that no longer holds writes nothing.
   */
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
    const folderIds = prepared.flatMap((p) => ('id' in p.folder && UUID.test(p.folder.id) ? [p.folder.id] : []));
    const named = prepared.flatMap((p) => ('name' in p.folder && UUID.test(p.d.mailboxId) ? [[p.d.mailboxId, p.folder.name]] : []));
    // Earlier deliveries, blob sizes, the folders and the mailboxes' usage, and mailboxes still without folders (see
    // ensureDefaultFolders), in one round trip.
    const read = () => this.pool.query<{
      delivered: DeliveredRow[] | null; blobs: Array<{ hash: string; size: number }> | null; bare: string[] | null;
      folders: Array<{ id: string; mailbox_id: string; name: string; uid_validity: number }> | null;
      mailboxes: Array<{ id: string; used: string; quota: string }> | null;
    }>(
      `SELECT (${DELIVERED_JSON} WHERE m.delivery_key = ANY($1)) AS delivered,
              (SELECT json_agg(json_build_object('hash', hash, 'size', size)) FROM blob WHERE hash = ANY($2)) AS blobs,
              (SELECT array_agg(m.id) FROM mailbox m
                WHERE m.id = ANY($3::uuid[]) AND NOT EXISTS (SELECT 1 FROM folder f WHERE f.mailbox_id = m.id)) AS bare,
              (SELECT json_agg(json_build_object('id', f.id, 'mailbox_id', f.mailbox_id, 'name', f.name, 'uid_validity', f.uid_validity))
                 FROM folder f
                WHERE f.id = ANY($4::uuid[]) OR (f.mailbox_id, f.name) IN (SELECT * FROM unnest($5::uuid[], $6::text[]))) AS folders,
              (SELECT json_agg(json_build_object('id', b.id, 'used', b.used_bytes::text, 'quota', b.quota_bytes::text))
                 FROM mailbox b WHERE b.id = ANY($3::uuid[])) AS mailboxes`,
      [keys, hashes, mailboxIds, folderIds, named.map((n) => n[0]), named.map((n) => n[1])],
    );
    let { rows: [found] } = await read();
    if (found.bare?.length) {
      for (const id of found.bare) await this.createDefaultFolders(id);
      ({ rows: [found] } = await read());
    }
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

    const folderRows = found.folders ?? [];
    const folderOf = (p: (typeof todo)[number]) => folderRows.find((f) =>
      f.mailbox_id === p.d.mailboxId && ('id' in p.folder ? f.id === p.folder.id : f.name === p.folder.name));
    // Per mailbox: usage as read, what this batch adds, and what the quota decisions assumed of the usage: every
    // enforced delivery taken fits while used + need <= quota, every one refused stays refused while used + refuse > quota.
    const usage = new Map((found.mailboxes ?? []).map((m) => [m.id, {
      used: Number(m.used), quota: Number(m.quota), bytes: 0, count: 0, need: null as number | null, refuse: null as number | null,
    }]));
    const touched = new Map<string, { id: string; n: number; unseen: number; bytes: number }>();
    const rows: NewMessageRow[] = [];
    const placed: Array<{ i: number; folderId: string; uidValidity: number; k: number; size: number; key: string | null }> = [];
    for (const p of todo) {
      const row = folderOf(p);
      const u = row && usage.get(row.mailbox_id);
      if (!row || !u) {
        outcomes[p.i] = { ok: false, error: new FolderNotFoundError('id' in p.folder ? p.folder.id : p.folder.name) };
        continue;
      }
      const m = p.d.message;
      const headerPrefix = stripNul(m.headerPrefix ?? '');
      const size = servedSize(headerPrefix, blobSizes.get(m.blobHash)!);
      if (p.d.enforceQuota) {
        if (u.used + u.bytes + size > u.quota) {
          outcomes[p.i] = { ok: false, error: new QuotaExceededError(row.mailbox_id, size, u.used + u.bytes, u.quota) };
          u.refuse = Math.min(u.refuse ?? Infinity, u.bytes + size);
          continue;
        }
        u.need = u.bytes + size;
      }
      let t = touched.get(row.id);
      if (!t) touched.set(row.id, (t = { id: row.id, n: 0, unseen: 0, bytes: 0 }));
      const flags = normalizeFlags(m.flags ?? []);
      const sort = m.sortFields ?? {};
      rows.push({
        mailbox_id: row.mailbox_id, folder_id: row.id, k: t.n, flags: flags.map(stripNul), internal_date: m.internalDate ?? this.now(),
        size, blob_hash: m.blobHash, header_prefix: headerPrefix, summary: m.summary ?? null, subject: text(sort.subject),
        base_subject: text(sort.baseSubject), from_addr: text(sort.from), to_addr: text(sort.to), cc_addr: text(sort.cc),
        sent_date: sort.sentDate ?? null, message_id: text(sort.messageId), in_reply_to: text(sort.inReplyTo),
        refs: (sort.references ?? []).map(stripNul), attachment_names: (sort.attachmentNames ?? []).map(stripNul),
        ...searchKeyColumns(m.searchKeys), delivery_key: m.deliveryKey ?? null,
        ...imapFormatColumns(m.summary), search_fields: withoutNul(searchFieldsOf(m.summary, sort.references)),
      });
      placed.push({ i: p.i, folderId: row.id, uidValidity: Number(row.uid_validity), k: t.n, size, key: m.deliveryKey ?? null });
      t.n += 1;
      t.unseen += hasFlag(flags, SEEN) ? 0 : 1;
      t.bytes += size;
      u.bytes += size;
      u.count += 1;
    }

    const folders = [...touched.values()];
    const checked = [...usage.entries()].filter(([, u]) => u.count > 0 || u.refuse !== null);
    // Refusals alone need no write: the read they were decided on is their moment.
    if (folders.length > 0) {
      const [result] = await lockedWrite<{
        go: boolean; folders: Array<[string, number, number]> | null; inserted: Array<[string, string, number]> | null;
      }>(this.pool, { folders: folders.map((t) => t.id), mailboxesOfFolders: true },
        `WITH r AS MATERIALIZED (SELECT * FROM json_to_recordset($1::json) AS r(mailbox_id uuid, folder_id uuid, k integer,
             flags text[], internal_date timestamptz, size integer, blob_hash text, header_prefix text, summary jsonb,
             subject text, base_subject text, from_addr text, to_addr text, cc_addr text, sent_date timestamptz, message_id text,
             in_reply_to text, refs text[], attachment_names text[], search_keys text, spool_id uuid, delivery_key text, imap_envelope text,
             imap_bodystructure text, search_fields jsonb)),
           ok AS (SELECT (SELECT count(*) FROM folder WHERE id = ANY($2::uuid[])) = cardinality($2::uuid[])
                     AND NOT EXISTS (SELECT 1 FROM message WHERE delivery_key = ANY($11::text[]))
                     AND NOT EXISTS (SELECT 1 FROM mailbox b JOIN unnest($12::uuid[], $13::bigint[], $14::bigint[]) AS q(id, need, refuse) ON b.id = q.id
                                      WHERE b.used_bytes + q.need > b.quota_bytes OR b.used_bytes + q.refuse <= b.quota_bytes)
                     AND (SELECT count(*) FROM mailbox WHERE id = ANY($12::uuid[])) = cardinality($12::uuid[]) AS go),
           f AS (UPDATE folder f SET uid_next = f.uid_next + d.n, highest_modseq = f.highest_modseq + d.n,
                   message_count = f.message_count + d.n, unseen_count = f.unseen_count + d.unseen, size_bytes = f.size_bytes + d.bytes
                  FROM unnest($2::uuid[], $3::int[], $4::int[], $5::bigint[]) AS d(id, n, unseen, bytes)
                 WHERE f.id = d.id AND (SELECT go FROM ok)
                 RETURNING f.id, f.uid_next - d.n AS base_uid, f.highest_modseq - d.n AS base_modseq),
           ins AS (INSERT INTO message (mailbox_id, folder_id, uid, modseq, flags, internal_date, size, blob_hash, header_prefix,
             summary, subject, base_subject, from_addr, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs,
             attachment_names, delivery_key, imap_envelope, imap_bodystructure, search_fields)
           SELECT r.mailbox_id, r.folder_id, f.base_uid + r.k, f.base_modseq + 1 + r.k, r.flags, r.internal_date, r.size, r.blob_hash,
             r.header_prefix, r.summary, r.subject, r.base_subject, r.from_addr, r.to_addr, r.cc_addr, r.sent_date, r.message_id,
             r.in_reply_to, r.refs, r.attachment_names, r.delivery_key, r.imap_envelope, r.imap_bodystructure, r.search_fields
             FROM r JOIN f ON f.id = r.folder_id
            ORDER BY r.folder_id, r.k
           RETURNING id, folder_id, uid),
           -- The keys once per blob, never per copy (migration 1765450000000): a blob already indexed keeps its keys,
           -- so the recipients of one delivery, and later copies, cost the index nothing. Empty sets are not stored.
           ks AS (INSERT INTO blob_search (blob_hash, keys)
             SELECT DISTINCT ON (blob_hash) blob_hash, keys
               FROM (SELECT r.blob_hash, CASE WHEN r.spool_id IS NULL THEN ('{' || r.search_keys || '}')::int8[]
                            ELSE (SELECT s.search_keys FROM spool_message s WHERE s.id = r.spool_id) END AS keys
                       FROM r WHERE NOT EXISTS (SELECT 1 FROM blob_search b WHERE b.blob_hash = r.blob_hash)) k
              WHERE cardinality(keys) > 0 AND (SELECT go FROM ok) ORDER BY blob_hash
           ON CONFLICT (blob_hash) DO NOTHING),
           mb AS (UPDATE mailbox m SET used_bytes = m.used_bytes + d.bytes, message_count = m.message_count + d.n
                  FROM unnest($8::uuid[], $9::bigint[], $10::int[]) AS d(id, bytes, n) WHERE m.id = d.id AND (SELECT go FROM ok))
           SELECT (SELECT go FROM ok) AS go,
                  (SELECT json_agg(json_build_array(f.id, f.base_uid, f.base_modseq)) FROM f) AS folders,
                  (SELECT json_agg(json_build_array(ins.id::text, ins.folder_id, ins.uid)) FROM ins) AS inserted`,
        [jsonForPostgres(rows),
          folders.map((t) => t.id), folders.map((t) => t.n), folders.map((t) => t.unseen), folders.map((t) => t.bytes), null, null,
          checked.map(([id]) => id), checked.map(([, u]) => u.bytes), checked.map(([, u]) => u.count),
          placed.flatMap((x) => (x.key ? [x.key] : [])),
          checked.map(([id]) => id), checked.map(([, u]) => u.need), checked.map(([, u]) => u.refuse)],
      ).catch((err: unknown) => {
        // A concurrent delivery of one of our keys, to another folder, committed while this one inserted.
        const e = err as { code?: string; constraint?: string };
        throw e.code === '23505' && e.constraint === 'message_delivery_key_key' ? new AppendRace() : mapPgError(err);
      });
      if (!result.go) throw new AppendRace();
      const bases = new Map((result.folders ?? []).map(([id, uid, modseq]) => [id, { uid: Number(uid), modseq: Number(modseq) }]));
      const ids = new Map((result.inserted ?? []).map(([id, folder, uid]) => [`${folder}:${uid}`, id]));
      const events: Events = [];
      for (const x of placed) {
        const base = bases.get(x.folderId)!;
        const uid = base.uid + x.k;
        outcomes[x.i] = {
          ok: true, messageId: ids.get(`${x.folderId}:${uid}`)!, folderId: x.folderId, uid, uidValidity: x.uidValidity,
          modseq: base.modseq + 1 + x.k, size: x.size, duplicate: false,
        };
      }
      for (const t of folders) {
        const base = bases.get(t.id)!;
        const mailboxId = folderRows.find((f) => f.id === t.id)!.mailbox_id;
        const uids = Array.from({ length: t.n }, (_, k) => base.uid + k);
        // rows holds each folder's messages in k order.
        const flags = rows.filter((r) => r.folder_id === t.id).map((r) => r.flags);
        events.push({
          mailboxId,
          event: { type: 'exists', folderId: t.id, uids, modseq: base.modseq + t.n, ...eventDetail(base.modseq, uids, flags) },
        });
      }
      await this.publish(events);
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
    if (!UUID.test(folderId)) throw new FolderNotFoundError(folderId);
    const r = mergeRanges(uids);
    const given = normalizeFlags(flags).map(stripNul);
    // $2 is unused: the new MODSEQ is read under the folder lock ($2 kept so FLAG_MODE_SQL's $8 stays where it is).
    const params: unknown[] = [folderId, null, r.map((x) => x.from), r.map((x) => x.to), ...uidBounds(r), opts.unchangedSince ?? null,
      mode === 'remove' ? given.map((f) => f.toLowerCase()) : given];
    // One row back: the changed rows as one json text (a row each cost node-pg more than the update itself at 5,000).
    const [head] = await lockedWrite<{ modseq: string; mailbox_id: string; changed: string | null; failed: number[] | null }>(
      this.pool, { folders: [folderId] },
      `WITH fo AS (SELECT mailbox_id, highest_modseq FROM folder WHERE id = $1::uuid),
         sel AS (
           SELECT m.id, m.uid, m.modseq, m.flags AS old, ${FLAG_MODE_SQL[mode]} AS next
             FROM message m
            WHERE m.folder_id = $1::uuid AND m.uid BETWEEN $5::int AND $6::int
              AND EXISTS (SELECT 1 FROM unnest($3::int[], $4::int[]) r(lo, hi) WHERE m.uid BETWEEN r.lo AND r.hi)),
         upd AS (
           UPDATE message m SET flags = s.next, modseq = (SELECT highest_modseq + 1 FROM fo) FROM sel s
            WHERE m.id = s.id AND (${FLAG_CHANGED_SQL[mode]}) AND ($7::bigint IS NULL OR s.modseq <= $7::bigint)
           RETURNING m.uid, m.flags, '\\Seen' = ANY (s.old) AS was_seen, '\\Seen' = ANY (m.flags) AS now_seen),
         f AS (
           UPDATE folder SET highest_modseq = highest_modseq + 1, unseen_count = unseen_count - d.delta
             FROM (SELECT count(*) AS n, coalesce(sum((NOT was_seen)::int - (NOT now_seen)::int), 0) AS delta FROM upd) d
            WHERE id = $1::uuid AND d.n > 0)
         SELECT fo.highest_modseq::text AS modseq, fo.mailbox_id::text AS mailbox_id,
                (SELECT json_agg(json_build_array(uid, flags) ORDER BY uid)::text FROM upd) AS changed,
                (SELECT array_agg(uid ORDER BY uid) FROM sel WHERE $7::bigint IS NOT NULL AND modseq > $7::bigint) AS failed
           FROM fo`,
      params,
    ).catch((err: unknown) => { throw mapPgError(err); });
    if (!head) throw new FolderNotFoundError(folderId);
    const before = Number(head.modseq);
    const modseq = before + 1;
    const failed = head.failed ?? [];
    const changed: SetFlagsResult['changed'] = head.changed === null
      ? []
      : (JSON.parse(head.changed) as Array<[number, string[]]>).map(([uid, now]) => ({ uid, modseq, flags: now }));
    if (changed.length === 0) return { changed, failed, highestModseq: before };
    const changedUids = changed.map((x) => x.uid);
    await this.publish([{ mailboxId: head.mailbox_id, event: {
      type: 'flags', folderId, uids: changedUids, modseq, ...eventDetail(before, changedUids, changed.map((x) => x.flags)),
    } }]);
    return { changed, failed, highestModseq: modseq };
  }

  /**
   * One round trip (lockedWrite): under the folders' and the target mailbox's locks, one statement selects the rows,
   * checks the quota, inserts the copies with UIDs from uid_next and moves the counters by deltas; a copy over the
   * quota writes nothing.
   */
  async copy(folderId: string, uids: NumberRange[], targetFolderId: string, opts: { enforceQuota?: boolean } = {}): Promise<CopyResult> {
    for (const id of [folderId, targetFolderId]) if (!UUID.test(id)) throw new FolderNotFoundError(id);
    const r = mergeRanges(uids);
    const [row] = await lockedWrite<{
      source: boolean; target: { mailbox_id: string; uid_next: number; highest_modseq: number; uid_validity: number } | null;
      n: number; bytes: string; used: string | null; quota: string | null; fits: boolean; map: Array<[number, number, string[]]> | null;
    }>(this.pool, { folders: [folderId, targetFolderId], mailboxesOfFolders: true },
      `WITH t AS (SELECT id, mailbox_id, uid_next, highest_modseq, uid_validity FROM folder WHERE id = $2::uuid),
         sel AS (SELECT m.id, m.uid, m.size, m.flags, NOT '\\Seen' = ANY (m.flags) AS unseen, (row_number() OVER (ORDER BY m.uid))::int - 1 AS k
                   FROM message m
                  WHERE m.folder_id = $1::uuid AND m.uid BETWEEN $5::int AND $6::int
                    AND EXISTS (SELECT 1 FROM unnest($3::int[], $4::int[]) r(lo, hi) WHERE m.uid BETWEEN r.lo AND r.hi)),
         tot AS (SELECT count(*)::int AS n, coalesce(sum(size), 0)::bigint AS bytes, count(*) FILTER (WHERE unseen)::int AS unseen FROM sel),
         mb AS (SELECT b.used_bytes, b.quota_bytes FROM mailbox b WHERE b.id = (SELECT mailbox_id FROM t)),
         ok AS (SELECT EXISTS (SELECT 1 FROM t) AND EXISTS (SELECT 1 FROM folder WHERE id = $1::uuid) AND tot.n > 0
                       AND (NOT $7::boolean OR coalesce((SELECT used_bytes + tot.bytes <= quota_bytes FROM mb), FALSE)) AS go
                  FROM tot),
         ins AS (INSERT INTO message (mailbox_id, folder_id, uid, modseq, flags, internal_date, size, blob_hash, header_prefix,
                   summary, subject, base_subject, from_addr, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs,
                   attachment_names, imap_envelope, imap_bodystructure, search_fields)
                 SELECT t.mailbox_id, t.id, t.uid_next + s.k, t.highest_modseq + 1, m.flags, m.internal_date, m.size, m.blob_hash,
                   m.header_prefix, m.summary, m.subject, m.base_subject, m.from_addr, m.to_addr, m.cc_addr, m.sent_date, m.message_id,
                   m.in_reply_to, m.refs, m.attachment_names, m.imap_envelope, m.imap_bodystructure, m.search_fields
                   FROM sel s JOIN message m ON m.id = s.id CROSS JOIN t
                  WHERE (SELECT go FROM ok)
                  ORDER BY s.k),
         fu AS (UPDATE folder f SET uid_next = f.uid_next + tot.n, highest_modseq = f.highest_modseq + 1,
                  message_count = f.message_count + tot.n, unseen_count = f.unseen_count + tot.unseen, size_bytes = f.size_bytes + tot.bytes
                  FROM tot WHERE f.id = $2::uuid AND (SELECT go FROM ok)),
         mu AS (UPDATE mailbox b SET used_bytes = b.used_bytes + tot.bytes, message_count = b.message_count + tot.n
                  FROM tot WHERE b.id = (SELECT mailbox_id FROM t) AND (SELECT go FROM ok))
       SELECT EXISTS (SELECT 1 FROM folder WHERE id = $1::uuid) AS source,
              (SELECT row_to_json(t) FROM t) AS target, tot.n, tot.bytes::text AS bytes,
              (SELECT used_bytes::text FROM mb) AS used, (SELECT quota_bytes::text FROM mb) AS quota, (SELECT go FROM ok) AS fits,
              (SELECT json_agg(json_build_array(s.uid, s.k, s.flags) ORDER BY s.k) FROM sel s) AS map
         FROM tot`,
      [folderId, targetFolderId, r.map((x) => x.from), r.map((x) => x.to), ...uidBounds(r), opts.enforceQuota ?? true],
    ).catch((err: unknown) => { throw mapPgError(err); });
    if (!row.source) throw new FolderNotFoundError(folderId);
    const target = row.target;
    if (!target) throw new FolderNotFoundError(targetFolderId);
    if (row.n === 0) return { uidValidity: Number(target.uid_validity), map: [], modseq: Number(target.highest_modseq) };
    if (!row.fits) throw new QuotaExceededError(target.mailbox_id, Number(row.bytes), Number(row.used), Number(row.quota));
    const modseq = Number(target.highest_modseq) + 1;
    const map = row.map!.map(([sourceUid, k]) => ({ sourceUid, targetUid: target.uid_next + k }));
    const targetUids = map.map((x) => x.targetUid);
    await this.publish([{ mailboxId: target.mailbox_id, event: {
      type: 'exists', folderId: targetFolderId, uids: targetUids, modseq,
      ...eventDetail(Number(target.highest_modseq), targetUids, row.map!.map((x) => x[2])),
    } }]);
    return { uidValidity: Number(target.uid_validity), map, modseq };
  }

  /**
   * One round trip (lockedWrite): the rows move in place (same id, delivery key kept) to UIDs from the target's
   * uid_next, tombstones are left, both folders' counters (and both mailboxes', across mailboxes) move by deltas, and
   * the quota is checked, in one statement under the folders' and mailboxes' locks.
   */
  async move(folderId: string, uids: NumberRange[], targetFolderId: string): Promise<MoveResult> {
    if (folderId === targetFolderId) throw new FolderOperationError(folderId, 'source and target of a move are the same folder');
    for (const id of [folderId, targetFolderId]) if (!UUID.test(id)) throw new FolderNotFoundError(id);
    const r = mergeRanges(uids);
    const [row] = await lockedWrite<{
      source: { mailbox_id: string; highest_modseq: number } | null;
      target: { mailbox_id: string; uid_next: number; highest_modseq: number; uid_validity: number } | null;
      n: number; bytes: string; used: string | null; quota: string | null; fits: boolean; map: Array<[number, number, string[]]> | null;
    }>(this.pool, { folders: [folderId, targetFolderId], mailboxesOfFolders: true },
      `WITH s0 AS (SELECT id, mailbox_id, highest_modseq FROM folder WHERE id = $1::uuid),
         t AS (SELECT id, mailbox_id, uid_next, highest_modseq, uid_validity FROM folder WHERE id = $2::uuid),
         cross_mb AS (SELECT (SELECT mailbox_id FROM s0) IS DISTINCT FROM (SELECT mailbox_id FROM t) AS yes),
         sel AS (SELECT m.id, m.uid, m.size, m.flags, NOT '\\Seen' = ANY (m.flags) AS unseen, (row_number() OVER (ORDER BY m.uid))::int - 1 AS k
                   FROM message m
                  WHERE m.folder_id = $1::uuid AND m.uid BETWEEN $5::int AND $6::int
                    AND EXISTS (SELECT 1 FROM unnest($3::int[], $4::int[]) r(lo, hi) WHERE m.uid BETWEEN r.lo AND r.hi)),
         tot AS (SELECT count(*)::int AS n, coalesce(sum(size), 0)::bigint AS bytes, count(*) FILTER (WHERE unseen)::int AS unseen FROM sel),
         mb AS (SELECT b.used_bytes, b.quota_bytes FROM mailbox b WHERE b.id = (SELECT mailbox_id FROM t)),
         ok AS (SELECT EXISTS (SELECT 1 FROM s0) AND EXISTS (SELECT 1 FROM t) AND tot.n > 0
                       AND (NOT (SELECT yes FROM cross_mb) OR coalesce((SELECT used_bytes + tot.bytes <= quota_bytes FROM mb), FALSE)) AS go
                  FROM tot),
         mv AS (UPDATE message m SET folder_id = t.id, mailbox_id = t.mailbox_id, uid = t.uid_next + s.k, modseq = t.highest_modseq + 1
                  FROM sel s CROSS JOIN t WHERE m.id = s.id AND (SELECT go FROM ok) RETURNING s.uid, s.id),
         ts AS (INSERT INTO expunged_message (folder_id, uid, modseq, message_id)
                  SELECT $1::uuid, mv.uid, (SELECT highest_modseq + 1 FROM s0), mv.id FROM mv
                  ON CONFLICT (folder_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq, message_id = EXCLUDED.message_id, thread_id = NULL),
         fu AS (UPDATE folder f SET
                  uid_next = f.uid_next + CASE WHEN f.id = $2::uuid THEN tot.n ELSE 0 END,
                  highest_modseq = f.highest_modseq + 1,
                  message_count = f.message_count + CASE WHEN f.id = $2::uuid THEN tot.n ELSE -tot.n END,
                  unseen_count = f.unseen_count + CASE WHEN f.id = $2::uuid THEN tot.unseen ELSE -tot.unseen END,
                  size_bytes = f.size_bytes + CASE WHEN f.id = $2::uuid THEN tot.bytes ELSE -tot.bytes END
                  FROM tot WHERE f.id IN ($1::uuid, $2::uuid) AND (SELECT go FROM ok)),
         mu AS (UPDATE mailbox b SET
                  used_bytes = b.used_bytes + CASE WHEN b.id = (SELECT mailbox_id FROM t) THEN tot.bytes ELSE -tot.bytes END,
                  message_count = b.message_count + CASE WHEN b.id = (SELECT mailbox_id FROM t) THEN tot.n ELSE -tot.n END
                  FROM tot WHERE b.id IN ((SELECT mailbox_id FROM s0), (SELECT mailbox_id FROM t))
                    AND (SELECT yes FROM cross_mb) AND (SELECT go FROM ok))
       SELECT (SELECT row_to_json(s0) FROM s0) AS source, (SELECT row_to_json(t) FROM t) AS target, tot.n, tot.bytes::text AS bytes,
              (SELECT used_bytes::text FROM mb) AS used, (SELECT quota_bytes::text FROM mb) AS quota, (SELECT go FROM ok) AS fits,
              (SELECT json_agg(json_build_array(s.uid, s.k, s.flags) ORDER BY s.k) FROM sel s) AS map
         FROM tot`,
      [folderId, targetFolderId, r.map((x) => x.from), r.map((x) => x.to), ...uidBounds(r)],
    ).catch((err: unknown) => { throw mapPgError(err); });
    const { source, target } = row;
    if (!source) throw new FolderNotFoundError(folderId);
    if (!target) throw new FolderNotFoundError(targetFolderId);
    if (row.n === 0) {
      return { uidValidity: Number(target.uid_validity), map: [], modseq: Number(target.highest_modseq), sourceModseq: Number(source.highest_modseq) };
    }
    if (!row.fits) throw new QuotaExceededError(target.mailbox_id, Number(row.bytes), Number(row.used), Number(row.quota));
    const sourceModseq = Number(source.highest_modseq) + 1;
    const modseq = Number(target.highest_modseq) + 1;
    const map = row.map!.map(([sourceUid, k]) => ({ sourceUid, targetUid: target.uid_next + k }));
    const sourceUids = map.map((x) => x.sourceUid);
    const targetUids = map.map((x) => x.targetUid);
    await this.publish([
      { mailboxId: source.mailbox_id, event: {
        type: 'expunge', folderId, uids: sourceUids, modseq: sourceModseq, ...eventDetail(Number(source.highest_modseq), sourceUids),
      } },
      { mailboxId: target.mailbox_id, event: {
        type: 'exists', folderId: targetFolderId, uids: targetUids, modseq,
        ...eventDetail(Number(target.highest_modseq), targetUids, row.map!.map((x) => x[2])),
      } },
    ]);
    return { uidValidity: Number(target.uid_validity), map, modseq, sourceModseq };
  }

  /** One round trip (lockedWrite): delete, tombstones and counters by deltas in one statement under the folder lock. */
  async expunge(folderId: string, uids?: NumberRange[]): Promise<ExpungeResult> {
    if (!UUID.test(folderId)) throw new FolderNotFoundError(folderId);
    const params: unknown[] = [folderId, DELETED];
    let rangeFilter = '';
    if (uids) {
      const r = mergeRanges(uids);
      params.push(r.map((x) => x.from), r.map((x) => x.to), ...uidBounds(r));
      rangeFilter = `AND uid BETWEEN $5::int AND $6::int
        AND EXISTS (SELECT 1 FROM unnest($3::int[], $4::int[]) r(lo, hi) WHERE uid BETWEEN r.lo AND r.hi)`;
    }
    const [row] = await lockedWrite<{ folder: { mailbox_id: string; highest_modseq: number } | null; uids: number[] | null }>(
      this.pool, { folders: [folderId] },
      `WITH fo AS (SELECT mailbox_id, highest_modseq FROM folder WHERE id = $1::uuid),
         del AS (DELETE FROM message WHERE folder_id = $1::uuid AND $2::text = ANY(flags) ${rangeFilter}
                 RETURNING id, uid, size, thread_id, NOT '\\Seen' = ANY (flags) AS unseen),
         tot AS (SELECT count(*)::int AS n, coalesce(sum(size), 0)::bigint AS bytes, count(*) FILTER (WHERE unseen)::int AS unseen FROM del),
         ts AS (INSERT INTO expunged_message (folder_id, uid, modseq, message_id, thread_id)
                  SELECT $1::uuid, del.uid, fo.highest_modseq + 1, del.id, del.thread_id FROM del CROSS JOIN fo
                  ON CONFLICT (folder_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq, message_id = EXCLUDED.message_id,
                    thread_id = EXCLUDED.thread_id),
         fu AS (UPDATE folder f SET highest_modseq = f.highest_modseq + 1, message_count = f.message_count - tot.n,
                  unseen_count = f.unseen_count - tot.unseen, size_bytes = f.size_bytes - tot.bytes
                  FROM tot WHERE f.id = $1::uuid AND tot.n > 0),
         mu AS (UPDATE mailbox b SET used_bytes = b.used_bytes - tot.bytes, message_count = b.message_count - tot.n
                  FROM tot WHERE b.id = (SELECT mailbox_id FROM fo) AND tot.n > 0)
       SELECT (SELECT row_to_json(fo) FROM fo) AS folder, (SELECT array_agg(uid ORDER BY uid) FROM del) AS uids`,
      params,
    ).catch((err: unknown) => { throw mapPgError(err); });
    if (!row.folder) throw new FolderNotFoundError(folderId);
    const expunged = row.uids ?? [];
    if (expunged.length === 0) return { uids: [], modseq: Number(row.folder.highest_modseq) };
    const modseq = Number(row.folder.highest_modseq) + 1;
    await this.publish([{ mailboxId: row.folder.mailbox_id, event: {
      type: 'expunge', folderId, uids: expunged, modseq, ...eventDetail(Number(row.folder.highest_modseq), expunged),
    } }]);
    return { uids: expunged, modseq };
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
    if (usesLateHeaders(query)) await this.fillLateHeaders(folderId);
    const params: unknown[] = [folderId];
    const where = compileSearch(query, params);
    const order = opts.sort?.length ? `${opts.sort.map((c) => `${SORT_EXPRESSIONS[c.key]}${c.reverse ? ' DESC' : ''}`).join(', ')}, m.uid` : 'm.uid';
    if (opts.withThreadKeys) {
      // References as one text split at a control character: node-pg parses a text[] per row far slower than a split.
      const { rows } = await this.pool.query<{
        uid: number; modseq: string; message_id: string | null; in_reply_to: string | null; refs: string | null; subject: string | null;
        base_subject: string | null; sent_time: string;
      }>(`SELECT m.uid, m.modseq, m.message_id, m.in_reply_to, array_to_string(m.refs, E'\\x01') AS refs, m.subject,
                 ${FIELDS}->'s'->>'subject' AS base_subject, ${SORT_EXPRESSIONS.date} AS sent_time
            FROM message m WHERE m.folder_id = $1 AND (${where}) ORDER BY ${order}`, params);
      if (rows.length === 0) await this.folderById(this.pool, folderId);
      return rows.map((t) => ({
        uid: t.uid, modseq: Number(t.modseq),
        thread: {
          messageId: t.message_id ?? null, inReplyTo: t.in_reply_to ?? null, references: t.refs ? t.refs.split('\x01') : [],
          subject: t.subject ?? null, baseSubject: t.base_subject ?? '', sentTime: Number(t.sent_time),
        },
      }));
    }
    // The hits come back as one text, not a row each: for thousands of hits node-pg's per-row parsing costs more than
    // PostgreSQL's finding and ordering them. No folder row: the folder does not exist (an empty result otherwise).
    const { rows: [r] } = await this.pool.query<{ folder: number | null; hits: string | null }>(
      `SELECT (SELECT 1 FROM folder WHERE id = $1) AS folder,
              (SELECT string_agg(m.uid || ' ' || m.modseq, ' ' ORDER BY ${order}) FROM message m WHERE m.folder_id = $1 AND (${where})) AS hits`,
      params,
    );
    if (r.folder === null) throw new FolderNotFoundError(folderId);
    if (r.hits === null) return [];
    const parts = r.hits.split(' ');
    const out: SearchHit[] = new Array(parts.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = { uid: Number(parts[2 * i]), modseq: Number(parts[2 * i + 1]) };
    return out;
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

  /**
   * The LATE_HEADER_FIELDS (List-Id) of rows whose summaries predate them, read from each message's header block (the
   * blob's bytes before its body, as SEARCH by an unkept header reads them), a batch at a time and kept; the partial
   * index message_late_headers_missing_idx finds them, so a filled folder costs one probe.
   */
  private async fillLateHeaders(folderId: string): Promise<void> {
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; header_prefix: string; blob_hash: string; size: number; body_start: number | null }>(
        `SELECT id, header_prefix, blob_hash, size, (summary->'partOffsets'->'TEXT'->>'bodyStart')::bigint AS body_start
           FROM message WHERE folder_id = $1 AND NOT (search_fields ? 'x') LIMIT ${LATE_FILL_BATCH}`, [folderId],
      );
      if (rows.length === 0) return;
      const texts: Array<string | null> = new Array(rows.length);
      let next = 0;
      const reader = async () => {
        while (next < rows.length) {
          const i = next++;
          const r = rows[i];
          const prefix = Buffer.byteLength(r.header_prefix, 'utf8');
          const end = Math.min(r.size, r.body_start === null ? 256 * 1024 : prefix + Number(r.body_start));
          const bytes = end > 0
            ? await readMessageBytes(this.blobs, r.header_prefix, r.blob_hash, r.size - prefix, { start: 0, end: end - 1 })
            : Buffer.alloc(0);
          texts[i] = listIdText(parseHeaderBlock(bytes).filter((f) => f.key === 'list-id').map((f) => f.value));
        }
      };
      await Promise.all(Array.from({ length: 8 }, reader));
      await this.pool.query(
        `UPDATE message m SET search_fields = CASE WHEN d.list_id IS NULL THEN m.search_fields || '{"x":1}'
                 ELSE jsonb_set(m.search_fields || '{"x":1}', '{h,list-id}', to_jsonb(d.list_id)) END
           FROM unnest($1::bigint[], $2::text[]) AS d(id, list_id)
          WHERE m.id = d.id AND NOT (m.search_fields ? 'x')`,
        [rows.map((r) => r.id), texts.map((t) => (t === null ? null : stripNul(t)))],
      );
      if (rows.length < LATE_FILL_BATCH) return;
    }
  }

  async changesSince(folderId: string, modseq: number): Promise<ChangesSince> {
    if (!UUID.test(folderId)) throw new FolderNotFoundError(folderId);
    // One statement, one snapshot: the folder's HIGHESTMODSEQ (kind 0), tombstones (1) and changed messages (2).
    const { rows } = await this.pool.query<ChangeRow>(
      `SELECT 0 AS kind, NULL::bigint AS id, 0 AS uid, highest_modseq AS modseq, NULL::text[] AS flags, NULL::integer AS size,
              NULL::timestamptz AS internal_date, NULL::text AS blob_hash, NULL::bigint AS thread_id
         FROM folder WHERE id = $1
       UNION ALL
       SELECT 1, message_id, uid, modseq, NULL, NULL, NULL, NULL, thread_id FROM expunged_message WHERE folder_id = $1 AND modseq > $2
       UNION ALL
       SELECT 2, id, uid, modseq, flags, size, internal_date, blob_hash, thread_id FROM message WHERE folder_id = $1 AND modseq > $2
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
        vanishedMessages.push({ uid: r.uid, messageId: r.id, modseq: Number(r.modseq), threadId: r.thread_id === null ? null : String(r.thread_id) });
      } else {
        changed.push({
          id: r.id!, uid: r.uid, modseq: Number(r.modseq), flags: r.flags!, size: r.size!, internalDate: r.internal_date!, blobHash: r.blob_hash!,
          threadId: String(r.thread_id),
        });
      }
    }
    return { changed, vanished, vanishedMessages, highestModseq: Number(rows[0].modseq) };
  }

  async queryMessages(mailboxId: string, query: MailboxQuery): Promise<MailboxHit[]> {
    if (!UUID.test(mailboxId)) return [];
    await this.fillMailboxFields(mailboxId, query.filter, query.sort);
    const params: unknown[] = [mailboxId];
    const where = compileMailboxSearch(query.filter, params);
    const order = mailboxOrder(query.sort, params);
    if (query.limit === null) {
      // Every match (an anchor is looked for): one text, as searchMessages sends its hits.
      const { rows: [r] } = await this.pool.query<{ hits: string | null }>(
        `SELECT string_agg(m.id || ' ' || m.thread_id, ' ' ORDER BY ${order}) AS hits
           FROM message m WHERE m.mailbox_id = $1 AND (${where})`, params);
      if (!r.hits) return [];
      const parts = r.hits.split(' ');
      const out: MailboxHit[] = [];
      for (let i = Math.max(0, query.offset); 2 * i < parts.length; i++) out.push({ id: parts[2 * i], threadId: parts[2 * i + 1] });
      return out;
    }
    params.push(Math.max(0, query.limit), Math.max(0, query.offset));
    const { rows } = await this.pool.query<{ id: string; thread_id: string }>(
      `SELECT m.id, m.thread_id FROM message m WHERE m.mailbox_id = $1 AND (${where})
        ORDER BY ${order} LIMIT $${params.length - 1} OFFSET $${params.length}`, params);
    return rows.map((r) => ({ id: String(r.id), threadId: String(r.thread_id) }));
  }

  async countMessages(mailboxId: string, filter: MailboxSearch, opts: { threads?: boolean } = {}): Promise<number> {
    if (!UUID.test(mailboxId)) return 0;
    await this.fillMailboxFields(mailboxId, filter, []);
    const params: unknown[] = [mailboxId];
    const where = compileMailboxSearch(filter, params);
    const { rows: [r] } = await this.pool.query<{ n: string }>(
      // Threads by grouping (a hash), not count(DISTINCT), which sorts every match.
      opts.threads
        ? `SELECT count(*) AS n FROM (SELECT m.thread_id FROM message m WHERE m.mailbox_id = $1 AND (${where}) GROUP BY m.thread_id) t`
        : `SELECT count(*) AS n FROM message m WHERE m.mailbox_id = $1 AND (${where})`, params);
    return Number(r.n);
  }

  /** search_fields of the mailbox's older rows, when the filter or the sort reads them (see fillSearchFields). */
  private async fillMailboxFields(mailboxId: string, filter: MailboxSearch, sort: MailboxSort[]): Promise<void> {
    const fields = mailboxUsesSearchFields(filter) || sort.some((c) => ['from', 'to', 'subject', 'sent'].includes(c.key));
    const late = mailboxUsesLateHeaders(filter);
    if (!fields && !late) return;
    // One round trip: a probe of each folder in the partial indexes of rows still missing them (none, once filled).
    const { rows } = await this.pool.query<{ id: string; fields: boolean; late: boolean }>(
      `SELECT f.id,
              EXISTS (SELECT 1 FROM message m WHERE m.folder_id = f.id AND m.search_fields IS NULL) AS fields,
              EXISTS (SELECT 1 FROM message m WHERE m.folder_id = f.id AND NOT (m.search_fields ? 'x')) AS late
         FROM folder f WHERE f.mailbox_id = $1`, [mailboxId]);
    for (const f of rows) {
      if (f.fields) await this.fillSearchFields(f.id);
      if (late && f.late) await this.fillLateHeaders(f.id);
    }
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
    await this.publish(events);
    return result;
  }

  /** After commit; a failure is reported and the operation still succeeds. */
  private async publish(events: Events): Promise<void> {
    for (const { mailboxId, event } of events) {
      await this.notifier.publish(mailboxId, event).catch((err) => this.options.onNotifyError?.(err));
    }
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
        ON CONFLICT (folder_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq, message_id = EXCLUDED.message_id, thread_id = NULL`,
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

/** A message row as appendMany inserts it (json_to_recordset column names); k: its place among the batch's rows of its folder. */
interface NewMessageRow {
  mailbox_id: string; folder_id: string; k: number; flags: string[]; internal_date: Date; size: number;
  blob_hash: string; header_prefix: string; summary: unknown; subject: string | null; base_subject: string | null;
  from_addr: string | null; to_addr: string | null; cc_addr: string | null; sent_date: Date | null; message_id: string | null;
  in_reply_to: string | null; refs: string[]; attachment_names: string[]; search_keys: SearchKeyList | null; spool_id: string | null; delivery_key: string | null;
  imap_envelope: string | null; imap_bodystructure: string | null; search_fields: SearchFields;
}

function imapFormatColumns(summary: unknown): Pick<NewMessageRow, 'imap_envelope' | 'imap_bodystructure'> {
  const format = renderImapFormat(summary);
  return { imap_envelope: format?.envelope ?? null, imap_bodystructure: format?.bodyStructure ?? null };
}

/** What an appendMany attempt was planned on changed before it held its locks; it wrote nothing and tries again. */
class AppendRace extends Error {
  constructor() {
    super('a delivery key, folder or mailbox usage changed while the append was planned');
  }
}

/** Each failed attempt lost to a write that committed, so attempts run out only under a storm of writes to one mailbox. */
const APPEND_ATTEMPTS = 50;

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
  internal_date: Date | null; blob_hash: string | null; thread_id: string | null;
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
const LATE_FILL_BATCH = 500;
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

function usesLateHeaders(key: StoreSearch): boolean {
  switch (key.op) {
    case 'header': return LATE_HEADER_FIELDS.includes(key.field as never);
    case 'and': return key.keys.some(usesLateHeaders);
    case 'or': return usesLateHeaders(key.a) || usesLateHeaders(key.b);
    case 'not': return usesLateHeaders(key.key);
    default: return false;
  }
}

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

function mailboxUsesSearchFields(key: MailboxSearch): boolean {
  switch (key.op) {
    case 'and': case 'or': return key.keys.some(mailboxUsesSearchFields);
    case 'not': return mailboxUsesSearchFields(key.key);
    case 'header': return true;
    default: return false;
  }
}

function mailboxUsesLateHeaders(key: MailboxSearch): boolean {
  switch (key.op) {
    case 'and': case 'or': return key.keys.some(mailboxUsesLateHeaders);
    case 'not': return mailboxUsesLateHeaders(key.key);
    case 'header': return usesLateHeaders(key);
    default: return false;
  }
}

/** A MailboxSearch as a boolean SQL expression over `message m` of one mailbox, never NULL; values go to params. */
function compileMailboxSearch(key: MailboxSearch, params: unknown[]): string {
  const param = (value: unknown, cast = '') => {
    params.push(value);
    return `$${params.length}${cast}`;
  };
  switch (key.op) {
    case 'all': return 'TRUE';
    case 'and': return key.keys.length ? key.keys.map((k) => `(${compileMailboxSearch(k, params)})`).join(' AND ') : 'TRUE';
    case 'or': return key.keys.length ? key.keys.map((k) => `(${compileMailboxSearch(k, params)})`).join(' OR ') : 'FALSE';
    case 'not': return `NOT (${compileMailboxSearch(key.key, params)})`;
    case 'flag': case 'size': case 'header': return compileSearch(key, params);
    case 'folders': {
      const ids = key.ids.filter((id) => UUID.test(id));
      if (ids.length === 0) return 'FALSE';
      // One folder as an equality, so the (folder_id, internal_date, id) index gives the order.
      return ids.length === 1 ? `m.folder_id = ${param(ids[0], '::uuid')}` : `m.folder_id = ANY (${param(ids, '::uuid[]')})`;
    }
    case 'received': return `m.internal_date ${key.cmp === 'before' ? '<' : '>='} ${param(key.at, '::timestamptz')}`;
    case 'attachment': return key.has ? 'cardinality(m.attachment_names) > 0' : 'cardinality(m.attachment_names) = 0';
    // strpos, not LIKE: the user's % and _ are letters of a file name here.
    case 'attachmentName': return `EXISTS (SELECT 1 FROM unnest(m.attachment_names) AS a(name) WHERE strpos(lower(a.name), ${param(key.value)}) > 0)`;
    case 'text': {
      const keys = searchKeys(key.tokens);
      if (keys.length === 0) return 'TRUE';
      // Kept a (hashed) subplan: pulled up into a semi join, the blob list is scanned once per row read.
      return `coalesce(m.blob_hash IN (SELECT blob_search_match(${param([...keys], '::int8[]')})), FALSE)`;
    }
  }
}

/** The first 256 characters of a sort field, as the JMAP query indexes hold them (a btree entry has a size limit). */
function sortPrefix(field: 'subject' | 'dfrom', reverse: boolean | undefined): string {
  return `left(${FIELDS}->'s'->>'${field}', 256) COLLATE "C"${reverse ? ' DESC' : ''}`;
}

/** ORDER BY of a mailbox query (store-search.ts sortValue for the shared keys); ties by id in the first key's direction. */
function mailboxOrder(sort: MailboxSort[], params: unknown[]): string {
  const parts = sort.map((c) => {
    let expression: string;
    switch (c.key) {
      case 'received': expression = 'm.internal_date'; break;
      case 'size': expression = 'm.size'; break;
      // By the indexed prefix first (message_folder_from_idx, message_folder_subject_idx), then the whole value.
      case 'from': expression = `${sortPrefix('dfrom', c.reverse)}, ${SORT_EXPRESSIONS.displayfrom}`; break;
      case 'to': expression = SORT_EXPRESSIONS.displayto; break;
      case 'subject': expression = `${sortPrefix('subject', c.reverse)}, ${SORT_EXPRESSIONS.subject}`; break;
      case 'sent': expression = SORT_EXPRESSIONS.date; break;
      case 'flag': expression = `(${compileSearch({ op: 'flag', flag: c.flag ?? '', set: true }, params)})`; break;
    }
    return `${expression}${c.reverse ? ' DESC' : ''}`;
  });
  parts.push(sort[0]?.reverse ? 'm.id DESC' : 'm.id');
  return parts.join(', ');
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
