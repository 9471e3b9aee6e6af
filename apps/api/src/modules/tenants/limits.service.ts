/**
 * Counting limits before anything is added: the tenant's plan limits, the domain's limits and the
 * tenant's registration code. Callers hold the transaction; the tenant row is locked so two
 * concurrent creations cannot both slip under a limit.
 */
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { limitReached, notFound } from '../../common/api-error';

export interface MailboxAddition {
  count: number;
  /** Sum of the new mailboxes' quotas. */
  quotaBytes: number;
}

@Injectable()
export class LimitsService {
  async lockTenant(m: EntityManager, tenantId: string): Promise<void> {
    await m.query(`SELECT id FROM tenant WHERE id = $1 FOR UPDATE`, [tenantId]);
  }

  async assertCanAddDomains(m: EntityManager, tenantId: string, count: number): Promise<void> {
    await this.lockTenant(m, tenantId);
    const [row] = await m.query(
      `SELECT t.max_domains, (SELECT count(*) FROM domain d WHERE d.tenant_id = t.id)::int AS domains,
              rc.max_domains AS code_max_domains
         FROM tenant t LEFT JOIN registration_code rc ON rc.tenant_id = t.id AND rc.revoked_at IS NULL
        WHERE t.id = $1`,
      [tenantId],
    );
    if (!row) throw notFound('tenant');
    if (row.max_domains !== null && row.domains + count > row.max_domains) {
      throw limitReached(`domain limit reached: the tenant's plan allows ${row.max_domains} domains and the tenant has ${row.domains}${adding(row.domains, count)}`, 'name');
    }
    if (row.code_max_domains !== null && row.domains + count > row.code_max_domains) {
      throw limitReached(
        `domain limit reached: the tenant's registration code allows ${row.code_max_domains} domains and the tenant has ${row.domains}${adding(row.domains, count)}`,
        'name',
      );
    }
  }

  async assertCanAddMailboxes(m: EntityManager, tenantId: string, domainId: string, add: MailboxAddition): Promise<void> {
    await this.lockTenant(m, tenantId);
    const [row] = await m.query(
      `SELECT t.max_mailboxes AS tenant_max, t.max_storage_bytes AS tenant_storage,
              d.max_mailboxes AS domain_max, d.max_storage_bytes AS domain_storage,
              rc.max_mailboxes AS code_max,
              (SELECT count(*) FROM mailbox x WHERE x.tenant_id = t.id)::int AS tenant_count,
              (SELECT coalesce(sum(quota_bytes), 0) FROM mailbox x WHERE x.tenant_id = t.id)::bigint AS tenant_allocated,
              (SELECT count(*) FROM mailbox x WHERE x.domain_id = d.id)::int AS domain_count,
              (SELECT coalesce(sum(quota_bytes), 0) FROM mailbox x WHERE x.domain_id = d.id)::bigint AS domain_allocated
         FROM tenant t JOIN domain d ON d.tenant_id = t.id
         LEFT JOIN registration_code rc ON rc.tenant_id = t.id AND rc.revoked_at IS NULL
        WHERE t.id = $1 AND d.id = $2`,
      [tenantId, domainId],
    );
    if (!row) throw notFound('domain');
    // count 0 (quota changes, imports checking rows already inserted) refuses only a count already over its limit.
    const over = (max: number | null, now: number) => max !== null && now + add.count > max;
    const more = adding(row.tenant_count, add.count);
    if (over(row.domain_max, row.domain_count)) {
      throw limitReached(`mailbox limit reached: the domain allows ${row.domain_max} mailboxes and has ${row.domain_count}${adding(row.domain_count, add.count)}`);
    }
    if (over(row.tenant_max, row.tenant_count)) {
      throw limitReached(`mailbox limit reached: the tenant's plan allows ${row.tenant_max} mailboxes and the tenant has ${row.tenant_count}${more}`);
    }
    if (over(row.code_max, row.tenant_count)) {
      throw limitReached(`mailbox limit reached: the tenant's registration code allows ${row.code_max} mailboxes and the tenant has ${row.tenant_count}${more}`);
    }
    this.assertStorage(row.domain_storage, Number(row.domain_allocated), add.quotaBytes, 'domain');
    this.assertStorage(row.tenant_storage, Number(row.tenant_allocated), add.quotaBytes, "tenant's plan");
  }

  /** A quota change of `delta` bytes on one mailbox. */
  async assertCanGrowQuota(m: EntityManager, tenantId: string, domainId: string, delta: number): Promise<void> {
    if (delta <= 0) return;
    await this.assertCanAddMailboxes(m, tenantId, domainId, { count: 0, quotaBytes: delta });
  }

  private assertStorage(max: string | null, allocated: number, adding: number, what: string): void {
    if (max === null) return;
    if (allocated + adding > Number(max)) {
      throw limitReached(`the ${what} storage (${max} bytes) is already allocated up to ${allocated} bytes; ${adding} more do not fit`, 'quotaBytes');
    }
  }
}

/** "; adding 3 would make 12", said only when adding more than one, where "has N" alone would not explain the refusal. */
function adding(now: number, count: number): string {
  return count > 1 ? `; adding ${count} would make ${now + count}` : '';
}
