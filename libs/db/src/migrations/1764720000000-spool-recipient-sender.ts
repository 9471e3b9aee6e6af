import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The envelope sender of one recipient's copy when it is not the message's: a forward to a remote address
 * leaves with the SRS-rewritten sender (libs/smtp/src/srs/srs.ts), the other recipients with the original.
 * NULL: the message's mail_from.
 */
export class SpoolRecipientSender1764720000000 implements MigrationInterface {
  name = 'SpoolRecipientSender1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE spool_recipient ADD COLUMN mail_from text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE spool_recipient DROP COLUMN mail_from`);
  }
}
