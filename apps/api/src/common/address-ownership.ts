/**
 * One address belongs to one thing: a mailbox, an alias or a group. Each table only has its own
 * unique index, so a new address is checked against all three under a per-address transaction lock,
 * which keeps two concurrent creations of the same address from both passing the check.
 */
import { EntityManager } from 'typeorm';
import { conflict } from './api-error';

export async function assertAddressFree(m: EntityManager, address: string, field = 'address'): Promise<void> {
  await m.query(`SELECT pg_advisory_xact_lock(hashtext('mail-address:' || $1))`, [address]);
  const [holder] = await m.query(
    `SELECT 'a mailbox' AS what FROM mailbox WHERE address = $1
     UNION ALL SELECT 'an alias' FROM alias WHERE address = $1
     UNION ALL SELECT 'a group' FROM mail_group WHERE address = $1
     LIMIT 1`,
    [address],
  );
  if (holder) throw conflict(`${address} is already ${holder.what}; pick another address`, field);
}
