import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A per-domain counter that moves whenever the searchable part of the domain's mailbox list changes
 * (a mailbox added or removed, or its local part, display name, status or role changed). The API keeps an
 * in-memory search index per domain and rebuilds it when the counter it reads has moved, so every API node
 * answers from current data without scanning the table on each keystroke of a search box.
 *
 * No foreign key: the counter of a domain being deleted would otherwise be written after its row went (the
 * cascade deletes the mailboxes, whose trigger runs after). The row is dropped with the domain instead.
 */
export class MailboxDirectoryVersion1764600000000 implements MigrationInterface {
  name = 'MailboxDirectoryVersion1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mailbox_directory_version (
        domain_id uuid PRIMARY KEY,
        version bigint NOT NULL DEFAULT 1
      )`);
    await q.query(`
      CREATE FUNCTION dizi_bump_directory_version(domain_ids uuid[]) RETURNS void LANGUAGE sql AS $$
        INSERT INTO mailbox_directory_version (domain_id)
        SELECT DISTINCT d.id FROM domain d WHERE d.id = ANY (domain_ids)
        ON CONFLICT (domain_id) DO UPDATE SET version = mailbox_directory_version.version + 1
      $$`);
    // One bump per statement for inserts and deletes (an import of 100,000 rows bumps once) ...
    await q.query(`
      CREATE FUNCTION dizi_mailbox_directory_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM dizi_bump_directory_version(ARRAY(SELECT DISTINCT domain_id FROM new_rows));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION dizi_mailbox_directory_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM dizi_bump_directory_version(ARRAY(SELECT DISTINCT domain_id FROM old_rows));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER mailbox_directory_inserted AFTER INSERT ON mailbox
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dizi_mailbox_directory_inserted()`);
    await q.query(`
      CREATE TRIGGER mailbox_directory_deleted AFTER DELETE ON mailbox
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dizi_mailbox_directory_deleted()`);
    // ... and per row for the rare updates of searchable columns (quota usage updates do not touch it).
    await q.query(`
      CREATE FUNCTION dizi_mailbox_directory_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM dizi_bump_directory_version(ARRAY[OLD.domain_id, NEW.domain_id]);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER mailbox_directory_updated AFTER UPDATE OF local_part, display_name, status, role, domain_id ON mailbox
        FOR EACH ROW
        WHEN (OLD.local_part IS DISTINCT FROM NEW.local_part OR OLD.display_name IS DISTINCT FROM NEW.display_name
              OR OLD.status IS DISTINCT FROM NEW.status OR OLD.role IS DISTINCT FROM NEW.role OR OLD.domain_id IS DISTINCT FROM NEW.domain_id)
        EXECUTE FUNCTION dizi_mailbox_directory_updated()`);
    await q.query(`
      CREATE FUNCTION dizi_domain_directory_dropped() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM mailbox_directory_version WHERE domain_id = OLD.id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER domain_directory_dropped AFTER DELETE ON domain
        FOR EACH ROW EXECUTE FUNCTION dizi_domain_directory_dropped()`);
    await q.query(`INSERT INTO mailbox_directory_version (domain_id) SELECT id FROM domain`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER domain_directory_dropped ON domain`);
    await q.query(`DROP TRIGGER mailbox_directory_updated ON mailbox`);
    await q.query(`DROP TRIGGER mailbox_directory_deleted ON mailbox`);
    await q.query(`DROP TRIGGER mailbox_directory_inserted ON mailbox`);
    await q.query(`DROP FUNCTION dizi_domain_directory_dropped(), dizi_mailbox_directory_updated(), dizi_mailbox_directory_deleted(),
      dizi_mailbox_directory_inserted(), dizi_bump_directory_version(uuid[])`);
    await q.query(`DROP TABLE mailbox_directory_version`);
  }
}
