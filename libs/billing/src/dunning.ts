/** Dunning: tenants past due for longer than the grace period are suspended (safe to run at any time, on any node). */
import type { DataSource } from 'typeorm';
import { BILLING_SYSTEM, changeTenantBilling } from './billing-state';

export async function suspendOverdueTenants(db: DataSource, graceDays: number, now: Date = new Date()): Promise<{ suspended: string[]; endSessionsOf: string[] }> {
  const cutoff = new Date(now.getTime() - graceDays * 86_400_000);
  const due: { tenant_id: string }[] = await db.query(`SELECT tenant_id FROM tenant_billing WHERE status = 'past_due' AND past_due_since <= $1`, [cutoff]);
  const suspended: string[] = [];
  const endSessionsOf: string[] = [];
  for (const { tenant_id } of due) {
    await db.transaction(async (m) => {
      // Read again under the lock: a payment may have arrived since the list was made.
      const [row] = await m.query(`SELECT status, past_due_since FROM tenant_billing WHERE tenant_id = $1 FOR UPDATE`, [tenant_id]);
      if (row?.status !== 'past_due' || row.past_due_since > cutoff) return;
      const r = await changeTenantBilling(m, BILLING_SYSTEM, tenant_id, { status: 'suspended' });
      suspended.push(tenant_id);
      endSessionsOf.push(...r.endSessionsOf);
    });
  }
  return { suspended, endSessionsOf };
}
