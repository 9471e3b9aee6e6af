import { MigrationInterface, QueryRunner } from 'typeorm';

/** Message store: blobs by SHA-256 with reference counts, folders, messages, and tombstones for QRESYNC. */
export class MessageStore1764300000000 implements MigrationInterface {
  name = 'MessageStore1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // UIDVALIDITY of a new folder must exceed every earlier one of the mailbox, even of folders deleted since.
    await q.query(`ALTER TABLE mailbox ADD COLUMN last_uid_validity bigint NOT NULL DEFAULT 0`);

    await q.query(`
      CREATE TABLE blob (
        hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
        size bigint NOT NULL CHECK (size >= 0),
        refcount integer NOT NULL DEFAULT 0 CHECK (refcount >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        touched_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`COMMENT ON COLUMN blob.touched_at IS 'last lease (putBlob) or last release; garbage collection waits a grace period from here'`);
    await q.query(`CREATE INDEX blob_unreferenced_idx ON blob (touched_at) WHERE refcount = 0`);

    await q.query(`
      CREATE TABLE folder (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        mailbox_id uuid NOT NULL REFERENCES mailbox (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (name <> ''),
        special_use text CHECK (special_use IN ('inbox', 'sent', 'drafts', 'trash', 'junk', 'virus')),
        subscribed boolean NOT NULL DEFAULT true,
        uid_validity bigint NOT NULL CHECK (uid_validity BETWEEN 1 AND 4294967295),
        uid_next integer NOT NULL DEFAULT 1 CHECK (uid_next >= 1),
        highest_modseq bigint NOT NULL DEFAULT 1 CHECK (highest_modseq >= 1),
        message_count integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
        unseen_count integer NOT NULL DEFAULT 0 CHECK (unseen_count >= 0),
        size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Names are case-sensitive except INBOX, which IMAP treats case-insensitively.
    await q.query(`CREATE UNIQUE INDEX folder_mailbox_name_key ON folder (mailbox_id, name)`);
    await q.query(`CREATE UNIQUE INDEX folder_mailbox_inbox_key ON folder (mailbox_id) WHERE upper(name) = 'INBOX'`);
    await q.query(`CREATE UNIQUE INDEX folder_mailbox_special_use_key ON folder (mailbox_id, special_use) WHERE special_use IS NOT NULL`);

    await q.query(`
      CREATE TABLE message (
        id bigserial PRIMARY KEY,
        mailbox_id uuid NOT NULL REFERENCES mailbox (id) ON DELETE CASCADE,
        folder_id uuid NOT NULL REFERENCES folder (id) ON DELETE CASCADE,
        uid integer NOT NULL CHECK (uid >= 1),
        modseq bigint NOT NULL CHECK (modseq >= 1),
        flags text[] NOT NULL DEFAULT '{}',
        internal_date timestamptz NOT NULL,
        size integer NOT NULL CHECK (size >= 0),
        blob_hash text NOT NULL REFERENCES blob (hash),
        header_prefix text NOT NULL DEFAULT '',
        summary jsonb NOT NULL,
        subject text,
        base_subject text,
        from_addr text,
        to_addr text,
        cc_addr text,
        sent_date timestamptz,
        message_id text,
        in_reply_to text,
        refs text[] NOT NULL DEFAULT '{}',
        attachment_names text[] NOT NULL DEFAULT '{}',
        search tsvector NOT NULL DEFAULT ''::tsvector,
        delivery_key text UNIQUE,
        UNIQUE (folder_id, uid)
      )`);
    await q.query(`CREATE INDEX message_folder_modseq_idx ON message (folder_id, modseq)`);
    await q.query(`CREATE INDEX message_mailbox_idx ON message (mailbox_id)`);
    // Deleting a blob row checks that no message references it.
    await q.query(`CREATE INDEX message_blob_hash_idx ON message (blob_hash)`);
    await q.query(`CREATE INDEX message_search_idx ON message USING gin (search)`);

    await q.query(`
      CREATE TABLE expunged_message (
        folder_id uuid NOT NULL REFERENCES folder (id) ON DELETE CASCADE,
        uid integer NOT NULL,
        modseq bigint NOT NULL,
        PRIMARY KEY (folder_id, uid)
      )`);
    await q.query(`CREATE INDEX expunged_message_modseq_idx ON expunged_message (folder_id, modseq)`);

    // Reference counts follow message rows in the same statement, cascades included (a deleted mailbox or folder
    // releases its blobs). Blob rows are locked in hash order so concurrent statements cannot deadlock on them.
    await q.query(`
      CREATE FUNCTION message_blob_refcount() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          PERFORM 1 FROM blob WHERE hash IN (SELECT DISTINCT blob_hash FROM new_rows) ORDER BY hash FOR NO KEY UPDATE;
          UPDATE blob SET refcount = blob.refcount + d.n
            FROM (SELECT blob_hash, count(*)::int AS n FROM new_rows GROUP BY blob_hash) d WHERE blob.hash = d.blob_hash;
        ELSE
          PERFORM 1 FROM blob WHERE hash IN (SELECT DISTINCT blob_hash FROM old_rows) ORDER BY hash FOR NO KEY UPDATE;
          UPDATE blob SET refcount = blob.refcount - d.n, touched_at = now()
            FROM (SELECT blob_hash, count(*)::int AS n FROM old_rows GROUP BY blob_hash) d WHERE blob.hash = d.blob_hash;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER message_blob_refcount_insert AFTER INSERT ON message
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION message_blob_refcount()`);
    await q.query(`
      CREATE TRIGGER message_blob_refcount_delete AFTER DELETE ON message
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION message_blob_refcount()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE expunged_message`);
    await q.query(`DROP TABLE message`);
    await q.query(`DROP FUNCTION message_blob_refcount()`);
    await q.query(`DROP TABLE folder`);
    await q.query(`DROP TABLE blob`);
    await q.query(`ALTER TABLE mailbox DROP COLUMN last_uid_validity`);
  }
}
