/** The migration giving every stored message its thread id, in batches, replies after the messages they answer. */
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/data-source';
import { MessageThreadId1765610000000 } from '../src/migrations/1765610000000-message-thread-id';
import { schemaBefore, seedMailbox, type SchemaBefore } from './schema-before';

describe('MessageThreadId migration', () => {
  let schema: SchemaBefore;
  let db: DataSource;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    schema = await schemaBefore(MessageThreadId1765610000000);
    const { old } = schema;
    const mailboxes: string[] = [];
    for (const local of ['a', 'b']) {
      mailboxes.push(await seedMailbox(old, `${local}.test`));
    }
    await old.query(`INSERT INTO blob (hash, size) VALUES ($1, 10)`, ['a'.repeat(64)]);
    const folders: string[] = [];
    for (const [i, mb] of mailboxes.entries()) {
      const [f] = await old.query(`INSERT INTO folder (mailbox_id, name, uid_validity) VALUES ($1, 'Threads', $2) RETURNING id`, [mb, 1000 + i]);
      folders.push(f.id);
    }
    // In id order; `early` answers `late`, which was stored after it.
    const rows: Array<[string, number, string, string | null, string[]]> = [
      ['root', 0, 'root@x', null, []],
      ['early', 0, 'early@x', 'late@x', ['late@x']],
      ['reply', 0, 'reply@x', 'root@x', ['root@x']],
      ['deep', 0, 'deep@x', null, ['nowhere@x', 'reply@x']],
      ['late', 0, 'late@x', null, []],
      ['other', 1, 'other@x', 'root@x', ['root@x']],
      ['bare', 0, null as unknown as string, null, []],
    ];
    for (const [uid, [key, mb, messageId, inReplyTo, refs]] of rows.entries()) {
      const [m] = await old.query(
        `INSERT INTO message (mailbox_id, folder_id, uid, modseq, internal_date, size, blob_hash, summary, message_id, in_reply_to, refs)
         VALUES ($1, $2, $3, 1, now(), 10, $4, '{}', $5, $6, $7) RETURNING id`,
        [mailboxes[mb], folders[mb], uid + 1, 'a'.repeat(64), messageId, inReplyTo, refs],
      );
      ids[key] = m.id;
    }
    db = await schema.reopen();
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('threads every existing message across batches, and new ones by the trigger', async () => {
    MessageThreadId1765610000000.batchSize = 2;
    try {
      await migrate(db, () => undefined);
    } finally {
      MessageThreadId1765610000000.batchSize = 5000;
    }
    const thread = async (id: string) => String((await db.query(`SELECT thread_id FROM message WHERE id = $1`, [id]))[0].thread_id);
    expect(await thread(ids.root)).toBe(ids.root);
    expect(await thread(ids.reply)).toBe(ids.root);
    expect(await thread(ids.deep)).toBe(ids.root);
    // What it answers was stored later: a thread of its own, which the later message does not join either.
    expect(await thread(ids.early)).toBe(ids.early);
    expect(await thread(ids.late)).toBe(ids.late);
    expect(await thread(ids.other)).toBe(ids.other);
    expect(await thread(ids.bare)).toBe(ids.bare);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM message WHERE thread_id IS NULL`);
    expect(n).toBe(0);

    const [root] = await db.query(`SELECT mailbox_id, folder_id FROM message WHERE id = $1`, [ids.root]);
    const [added] = await db.query(
      `INSERT INTO message (mailbox_id, folder_id, uid, modseq, internal_date, size, blob_hash, summary, message_id, refs)
       VALUES ($1, $2, 100, 2, now(), 10, $3, '{}', 'new@x', ARRAY['deep@x']) RETURNING id, thread_id`,
      [root.mailbox_id, root.folder_id, 'a'.repeat(64)],
    );
    expect(String(added.thread_id)).toBe(ids.root);
  });
});
