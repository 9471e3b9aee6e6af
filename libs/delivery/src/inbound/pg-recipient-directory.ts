/** RecipientDirectory on PostgreSQL: domains, mailboxes, aliases, catch-alls and groups, with tenant and domain status. */
import type { Pool } from 'pg';
import type { RecipientDirectory, RecipientResolution, SenderResolution } from '@dizi/smtp/inbound/ports';

// The messages a mailbox sent "today" are counted per UTC day, here and in the spool writer.
export const SEND_DAY_SQL = `(now() AT TIME ZONE 'UTC')::date`;

export class PgRecipientDirectory implements RecipientDirectory {
  constructor(private readonly pool: Pool) {}

  async resolveRecipient(address: string): Promise<RecipientResolution> {
    const at = address.lastIndexOf('@');
    const domain = at < 0 ? '' : address.slice(at + 1);
    if (!domain || at === 0) return { kind: 'unavailable', address, domain, reason: 'unknown-user' };
    // One round trip: the domain with every kind of address that could take the mail.
    const { rows } = await this.pool.query(
      `SELECT d.tenant_id, d.status AS domain_status, d.smtp_enabled, t.status AS tenant_status,
              m.id AS mailbox_id, m.status AS mailbox_status, m.quota_bytes, m.used_bytes,
              a.id AS alias_id, g.id AS group_id, c.id AS catch_all_id
         FROM domain d
         JOIN tenant t ON t.id = d.tenant_id
         LEFT JOIN mailbox m ON m.address = $1
         LEFT JOIN alias a ON a.address = $1 AND a.enabled
         LEFT JOIN mail_group g ON g.address = $1
         LEFT JOIN alias c ON c.address = '*@' || d.name AND c.enabled
        WHERE d.name = $2`,
      [address, domain],
    );
    const r = rows[0];
    if (!r) return { kind: 'remote', address, domain };
    const unavailable = (reason: Extract<RecipientResolution, { kind: 'unavailable' }>['reason']): RecipientResolution => ({ kind: 'unavailable', address, domain, reason });
    if (r.tenant_status !== 'active') return unavailable('tenant-suspended');
    if (r.domain_status !== 'active') return unavailable('domain-disabled');
    if (!r.smtp_enabled) return unavailable('smtp-disabled');
    const local = { kind: 'local' as const, address, domain, tenantId: r.tenant_id as string };
    if (r.mailbox_id) {
      if (r.mailbox_status !== 'active') return unavailable('mailbox-suspended');
      return { ...local, target: 'mailbox', mailbox: { id: r.mailbox_id, quotaBytes: Number(r.quota_bytes), usedBytes: Number(r.used_bytes) } };
    }
    if (r.alias_id) return { ...local, target: 'alias' };
    if (r.group_id) return { ...local, target: 'group' };
    if (r.catch_all_id) return { ...local, target: 'catch-all' };
    return unavailable('unknown-user');
  }

  async resolveSender(address: string, mailboxId: string | null): Promise<SenderResolution> {
    const domain = address.slice(address.lastIndexOf('@') + 1);
    const { rows } = await this.pool.query(
      `SELECT EXISTS (SELECT 1 FROM domain WHERE name = $2) AS local,
              (EXISTS (SELECT 1 FROM mailbox WHERE id = $3::uuid AND address = $1)
               OR EXISTS (SELECT 1 FROM alias a JOIN mailbox m ON m.id = $3::uuid
                           WHERE a.address = $1 AND a.enabled AND m.address = ANY (a.destinations))) AS owned`,
      [address, domain, mailboxId],
    );
    return rows[0].local ? { local: true, owned: rows[0].owned } : { local: false };
  }

  async sendAllowance(mailboxId: string): Promise<{ limit: number | null; sentToday: number }> {
    const { rows } = await this.pool.query(
      `SELECT COALESCE(m.daily_send_limit, d.mailbox_daily_send_limit) AS send_limit,
              COALESCE((SELECT messages FROM send_count WHERE mailbox_id = m.id AND day = ${SEND_DAY_SQL}), 0) AS sent
         FROM mailbox m JOIN domain d ON d.id = m.domain_id WHERE m.id = $1`,
      [mailboxId],
    );
    const r = rows[0];
    if (!r) return { limit: 0, sentToday: 0 };
    return { limit: r.send_limit === null ? null : Number(r.send_limit), sentToday: Number(r.sent) };
  }
}
