import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * message.thread_id (JMAP Thread): set once per message as it is stored, by a trigger so every writer (delivery,
 * APPEND, COPY) gets it without carrying it: the thread of the oldest message of the same mailbox that the new one's
 * Message-ID, In-Reply-To or References name, else the message's own id. MOVE keeps it (the row is updated, not
 * inserted). Rows stored before are filled here in id order, in batches, so a reply finds its parent's thread.
 */
export class MessageThreadId1765610000000 implements MigrationInterface {
  name = 'MessageThreadId1765610000000';
  /** Rows by id per backfill statement (a test makes it small to cross batches). */
  static batchSize = 5000;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message ADD COLUMN thread_id bigint`);
    await q.query(`CREATE INDEX message_mailbox_message_id_idx ON message (mailbox_id, message_id) WHERE message_id IS NOT NULL`);
    await q.query(`CREATE INDEX message_mailbox_thread_idx ON message (mailbox_id, thread_id)`);
    await q.query(`
      CREATE FUNCTION message_thread_of(p_mailbox uuid, p_id bigint, p_message_id text, p_in_reply_to text, p_refs text[]) RETURNS bigint
      LANGUAGE sql STABLE AS $$
        SELECT COALESCE((
          SELECT p.thread_id FROM message p
           WHERE p.mailbox_id = p_mailbox AND p.thread_id IS NOT NULL AND p.id <> p_id
             AND p.message_id = ANY(array_append(array_append(p_refs, p_in_reply_to), p_message_id))
           ORDER BY p.id LIMIT 1), p_id)
      $$`);
    await q.query(`
      CREATE FUNCTION message_thread_id() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.thread_id IS NULL THEN
          NEW.thread_id := message_thread_of(NEW.mailbox_id, NEW.id, NEW.message_id, NEW.in_reply_to, NEW.refs);
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER message_thread_id BEFORE INSERT ON message FOR EACH ROW EXECUTE FUNCTION message_thread_id()`);

    // Existing rows, oldest first; each row's statement sees the threads of the rows before it.
    await q.query(`
      CREATE FUNCTION pg_temp.message_thread_backfill(lo bigint, hi bigint) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT id, mailbox_id, message_id, in_reply_to, refs FROM message WHERE id BETWEEN lo AND hi AND thread_id IS NULL ORDER BY id LOOP
          UPDATE message SET thread_id = message_thread_of(r.mailbox_id, r.id, r.message_id, r.in_reply_to, r.refs) WHERE id = r.id;
        END LOOP;
      END $$`);
    const [{ lo, hi }] = await q.query(`SELECT min(id)::text AS lo, max(id)::text AS hi FROM message`);
    if (lo !== null) {
      const batch = BigInt(MessageThreadId1765610000000.batchSize);
      for (let from = BigInt(lo); from <= BigInt(hi); from += batch) {
        await q.query(`SELECT pg_temp.message_thread_backfill($1, $2)`, [from.toString(), (from + batch - 1n).toString()]);
      }
    }
    await q.query(`ALTER TABLE message ALTER COLUMN thread_id SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER message_thread_id ON message`);
    await q.query(`DROP FUNCTION message_thread_id()`);
    await q.query(`DROP FUNCTION message_thread_of(uuid, bigint, text, text, text[])`);
    await q.query(`ALTER TABLE message DROP COLUMN thread_id`);
  }
}
