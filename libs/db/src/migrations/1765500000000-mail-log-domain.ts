import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The domain a delivery, bounce or outbound record belongs to (issue 12 item 3): domain admins read exactly their
 * domains' records in /api/logs/mail. Filled by the writer like `tenant_id` (libs/delivery/src/logs/mail-log.ts):
 * the first recipient's domain when it is ours, else the sender's. SMTP session records keep none: one session
 * may carry recipients of several domains and the client's address, so they stay with operators and tenant admins.
 * Existing records are filled here in batches along the primary key, so the nodes writing new rows never wait long.
 */
export class MailLogDomain1765500000000 implements MigrationInterface {
  name = 'MailLogDomain1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_log ADD COLUMN domain_id uuid`);
    const domainOf = (text: string) => `(SELECT d.id FROM domain d WHERE d.name = lower(substring(${text} from '@([^@]*)$')))`;
    let after = '0';
    for (;;) {
      const rows: { last: string | null }[] = await q.query(
        `WITH batch AS (SELECT id FROM mail_log WHERE id > $1 AND kind <> 'session' ORDER BY id LIMIT 10000),
              done AS (UPDATE mail_log l SET domain_id = COALESCE(${domainOf('l.recipients[1]')}, ${domainOf('l.mail_from')})
                        FROM batch WHERE l.id = batch.id)
         SELECT max(id)::text AS last FROM batch`,
        [after],
      );
      if (!rows[0]?.last) break;
      after = rows[0].last;
    }
    await q.query(`CREATE INDEX mail_log_domain_idx ON mail_log (domain_id, at DESC) WHERE domain_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_log DROP COLUMN domain_id`);
  }
}
