import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * "Send as" identities a domain admin grants a mailbox (issue 11 item 5): besides its own address and the aliases
 * that deliver to it, a signed-in user may use these as envelope sender and From: on the submission ports. A grant
 * goes with its mailbox; `address` is stored in lookup form (lower case, ASCII domain).
 */
export class MailboxSendAs1765100000000 implements MigrationInterface {
  name = 'MailboxSendAs1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mailbox_send_as (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
        mailbox_id uuid NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
        address text NOT NULL,
        granted_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (mailbox_id, address)
      )`);
    // The submission check asks "may mailbox M use address A": the unique index answers it.
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mailbox_send_as`);
  }
}
