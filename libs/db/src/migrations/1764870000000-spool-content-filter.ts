import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The content filter's findings on a spooled message (libs/smtp/src/inbound/content): the X-Virus-* / X-Spam-*
 * header lines every delivered copy gets, and the special-use folder (Junk, Virus) local delivery files it in.
 * spam_score already exists (mail-flow). NULL: no scanner looked at the message.
 */
export class SpoolContentFilter1764870000000 implements MigrationInterface {
  name = 'SpoolContentFilter1764870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE spool_message
        ADD COLUMN filter_headers text,
        ADD COLUMN filter_folder text CHECK (filter_folder IN ('junk', 'virus'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE spool_message DROP COLUMN filter_headers, DROP COLUMN filter_folder`);
  }
}
