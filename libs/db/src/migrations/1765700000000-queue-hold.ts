import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operators hold queued mail (issue 16, queue actions): `held_at` marks a spooled recipient no node may try
 * until it is released. A trigger keeps a held recipient's next_attempt_at at infinity on every update, so a
 * delivery attempt already running when it was held, which reschedules the row when it fails, cannot release
 * it; the sweepers and workers need no change (they only take rows whose next_attempt_at has passed).
 */
export class QueueHold1765700000000 implements MigrationInterface {
  name = 'QueueHold1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE spool_recipient ADD COLUMN held_at timestamptz`);
    await q.query(`
      CREATE FUNCTION spool_recipient_keep_held() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.next_attempt_at := 'infinity';
        RETURN NEW;
      END $$`);
    // WHEN is checked before the function runs: rows that are not held pay nothing but the test.
    await q.query(`
      CREATE TRIGGER spool_recipient_keep_held BEFORE UPDATE ON spool_recipient
        FOR EACH ROW WHEN (NEW.held_at IS NOT NULL AND NEW.status IN ('queued', 'deferred'))
        EXECUTE FUNCTION spool_recipient_keep_held()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER spool_recipient_keep_held ON spool_recipient`);
    await q.query(`DROP FUNCTION spool_recipient_keep_held()`);
    await q.query(`ALTER TABLE spool_recipient DROP COLUMN held_at`);
  }
}
