import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a mailbox user sets on an identity (issue 15, JMAP Identity/set): display name, replyTo, bcc and up to three
 * signatures with one default, per address the user may send as. The addresses themselves stay in the directory
 * (mailbox, alias, send-as grant); a profile whose address is no longer granted is simply not shown. Rows go with the
 * mailbox.
 */
export class IdentityProfile1766230000000 implements MigrationInterface {
  name = 'IdentityProfile1766230000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mailbox_identity_profile (
        mailbox_id uuid NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
        address text NOT NULL,
        name text,
        reply_to jsonb,
        bcc jsonb,
        signatures jsonb NOT NULL DEFAULT '[]',
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (mailbox_id, address),
        CHECK (jsonb_typeof(signatures) = 'array' AND jsonb_array_length(signatures) <= 3)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mailbox_identity_profile`);
  }
}
