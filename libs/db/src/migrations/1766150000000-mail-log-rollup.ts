import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rollups of the mail log for the operators' dashboard (issue 16): the scheduler adds each closed UTC hour of
 * `mail_log` once — mail in/out/refused per hour, refusals per hour and reason, senders per day — and moves the
 * watermark in `mail_rollup_state` in the same transaction, so a second run (or a second node) adds nothing and a
 * run after downtime catches up every hour missed. The dashboard reads the rollups before the watermark and the raw
 * log after it, so its figures are those of the raw log.
 */
export class MailLogRollup1766150000000 implements MigrationInterface {
  name = 'MailLogRollup1766150000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mail_rollup_state (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        -- Every mail_log row with at < rolled_until is counted in the rollups; NULL: nothing rolled up yet.
        rolled_until timestamptz
      )`);
    await q.query(`INSERT INTO mail_rollup_state (id, rolled_until) VALUES (true, NULL)`);
    await q.query(`
      CREATE TABLE mail_hourly (
        hour timestamptz PRIMARY KEY,
        inbound integer NOT NULL DEFAULT 0,
        outbound integer NOT NULL DEFAULT 0,
        refused integer NOT NULL DEFAULT 0
      )`);
    await q.query(`
      CREATE TABLE mail_refusal_hourly (
        hour timestamptz NOT NULL,
        reason text NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (hour, reason)
      )`);
    // Per day, not per hour: the top-senders chart counts whole UTC days, and a row per sender and hour would be
    // about as many rows as the log itself.
    await q.query(`
      CREATE TABLE mail_sender_daily (
        day timestamptz NOT NULL,
        sender text NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (day, sender)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mail_sender_daily`);
    await q.query(`DROP TABLE mail_refusal_hourly`);
    await q.query(`DROP TABLE mail_hourly`);
    await q.query(`DROP TABLE mail_rollup_state`);
  }
}
