import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outgoing billing webhooks (issue 17, billing by API): events written in the same transaction as the change they
 * report (a tenant's billing status, a closed usage day) and sent, signed, by the billing process with retries.
 */
export class BillingOutbox1766000100000 implements MigrationInterface {
  name = 'BillingOutbox1766000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE billing_outbox (
        id bigserial PRIMARY KEY,
        type text NOT NULL,
        tenant_id uuid,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        failed_at timestamptz,
        last_error text
      )`);
    await q.query(`CREATE INDEX billing_outbox_due_idx ON billing_outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE billing_outbox`);
  }
}
