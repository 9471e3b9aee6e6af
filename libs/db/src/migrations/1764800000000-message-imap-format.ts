import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ENVELOPE and BODYSTRUCTURE as IMAP prints them, rendered once when a message is stored (libs/mail-store
 * stored-imap-format.ts): FETCH of a whole mailbox then reads short text instead of every summary's JSON.
 * NULL for rows stored before, which FETCH renders from the summary.
 */
export class MessageImapFormat1764800000000 implements MigrationInterface {
  name = 'MessageImapFormat1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message ADD COLUMN imap_envelope text, ADD COLUMN imap_bodystructure text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message DROP COLUMN imap_bodystructure, DROP COLUMN imap_envelope`);
  }
}
