import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every mailbox has INBOX, Sent, Drafts, Trash, Junk and Virus from the moment it exists, however it
 * was made (API, CSV import, seed): a statement trigger creates them in the same transaction, so
 * delivery and IMAP never meet a mailbox without an INBOX. UIDVALIDITY follows the message store's
 * rule: clock-based and strictly increasing per mailbox (mailbox.last_uid_validity).
 */
export class MailboxDefaultFolders1764450000000 implements MigrationInterface {
  name = 'MailboxDefaultFolders1764450000000';

  async up(q: QueryRunner): Promise<void> {
    // The UIDVALIDITY range is reserved on the row before it is written (no second write of the mailbox row,
    // which would rewrite its trigram indexes: imports add 100,000 mailboxes at a time).
    await q.query(`
      CREATE FUNCTION mailbox_reserve_uid_validity() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.last_uid_validity := greatest(extract(epoch FROM clock_timestamp())::bigint, NEW.last_uid_validity + 1) + 5;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER mailbox_reserve_uid_validity BEFORE INSERT ON mailbox
        FOR EACH ROW EXECUTE FUNCTION mailbox_reserve_uid_validity()`);
    await q.query(`
      CREATE FUNCTION mailbox_default_folders() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Bulk imports defer this; the message store then creates the folders at a mailbox's first use.
        IF current_setting('dizi.defer_default_folders', true) = 'on' THEN
          RETURN NULL;
        END IF;
        INSERT INTO folder (mailbox_id, name, special_use, subscribed, uid_validity)
        SELECT n.id, d.name, d.special_use, true, n.last_uid_validity - 5 + d.ord
          FROM new_rows n
         CROSS JOIN (VALUES (0, 'INBOX', 'inbox'), (1, 'Sent', 'sent'), (2, 'Drafts', 'drafts'),
                            (3, 'Trash', 'trash'), (4, 'Junk', 'junk'), (5, 'Virus', 'virus')) AS d (ord, name, special_use);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER mailbox_default_folders AFTER INSERT ON mailbox
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mailbox_default_folders()`);
    // Mailboxes made before this migration get theirs now.
    await q.query(`
      WITH bare AS (SELECT m.id, greatest(extract(epoch FROM clock_timestamp())::bigint, m.last_uid_validity + 1) AS v
                      FROM mailbox m WHERE NOT EXISTS (SELECT 1 FROM folder f WHERE f.mailbox_id = m.id)),
           made AS (INSERT INTO folder (mailbox_id, name, special_use, subscribed, uid_validity)
                    SELECT b.id, d.name, d.special_use, true, b.v + d.ord FROM bare b
                     CROSS JOIN (VALUES (0, 'INBOX', 'inbox'), (1, 'Sent', 'sent'), (2, 'Drafts', 'drafts'),
                                        (3, 'Trash', 'trash'), (4, 'Junk', 'junk'), (5, 'Virus', 'virus')) AS d (ord, name, special_use))
      UPDATE mailbox m SET last_uid_validity = b.v + 5 FROM bare b WHERE m.id = b.id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER mailbox_default_folders ON mailbox`);
    await q.query(`DROP FUNCTION mailbox_default_folders()`);
    await q.query(`DROP TRIGGER mailbox_reserve_uid_validity ON mailbox`);
    await q.query(`DROP FUNCTION mailbox_reserve_uid_validity()`);
  }
}
