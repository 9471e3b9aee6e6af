/**
 * The demo tenant of the README's first command: domain demo.test with admin@, alice@ and bob@,
 * and a local operator account `operator`. Idempotent; with DIZI_DEMO_PASSWORD every demo account
 * gets that password on every start, so scripts can sign in.
 */
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { hashPassword, verifyPassword } from '@dizi/auth/password-hash';
import type { Actor } from '@dizi/domain/policy';

export const DEMO_DOMAIN = 'demo.test';
export const SYSTEM_ACTOR: Actor = { role: 'operator', kind: 'operator-account', id: 'system', name: 'system' };

const DEMO_MAILBOXES = [
  { localPart: 'admin', displayName: 'Demo Admin / 演示管理员', role: 'domain_admin' },
  { localPart: 'alice', displayName: 'Alice Liu / 刘爱丽', role: 'user' },
  { localPart: 'bob', displayName: 'Bob Wang / 王博', role: 'user' },
] as const;

export interface DemoAccount {
  username: string;
  password: string | null;
  role: string;
}

export interface DomainCreator {
  /** Creates the demo domain through the domain service (keys, defaults, audit), returning its id. */
  (tenantId: string, name: string): Promise<string>;
}

export async function seedDemo(dataSource: DataSource, fixedPassword: string | undefined, createDomain: DomainCreator): Promise<DemoAccount[]> {
  const accounts: DemoAccount[] = [];
  const passwordFor = () => fixedPassword ?? randomBytes(9).toString('base64url');

  let [tenant] = await dataSource.query(`SELECT id FROM tenant WHERE name = 'Demo'`);
  if (!tenant) [tenant] = await dataSource.query(`INSERT INTO tenant (name, plan) VALUES ('Demo', 'demo') RETURNING id`);
  let [domain] = await dataSource.query(`SELECT id FROM domain WHERE name = $1`, [DEMO_DOMAIN]);
  if (!domain) {
    domain = { id: await createDomain(tenant.id, DEMO_DOMAIN) };
    await dataSource.query(`UPDATE domain SET is_default = true WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM domain WHERE is_default)`, [domain.id]);
  }

  for (const m of DEMO_MAILBOXES) {
    const address = `${m.localPart}@${DEMO_DOMAIN}`;
    const [row] = await dataSource.query(`SELECT id, password_hash FROM mailbox WHERE address = $1`, [address]);
    if (!row) {
      const password = passwordFor();
      await dataSource.query(
        `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, role, password_hash, quota_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1073741824)`,
        [tenant.id, domain.id, m.localPart, address, m.displayName, m.role, await hashPassword(password)],
      );
      accounts.push({ username: address, password, role: m.role });
    } else if (fixedPassword && !(await verifyPassword(fixedPassword, row.password_hash))) {
      await dataSource.query(`UPDATE mailbox SET password_hash = $2, token_version = token_version + 1 WHERE id = $1`, [row.id, await hashPassword(fixedPassword)]);
      accounts.push({ username: address, password: fixedPassword, role: m.role });
    } else {
      accounts.push({ username: address, password: fixedPassword ?? null, role: m.role });
    }
  }

  const [op] = await dataSource.query(`SELECT id, password_hash FROM operator_account WHERE username = 'operator'`);
  if (!op) {
    const password = passwordFor();
    await dataSource.query(`INSERT INTO operator_account (username, display_name, password_hash) VALUES ('operator', 'Operator / 运营商', $1)`, [await hashPassword(password)]);
    accounts.push({ username: 'operator', password, role: 'operator' });
  } else if (fixedPassword && !(await verifyPassword(fixedPassword, op.password_hash))) {
    await dataSource.query(`UPDATE operator_account SET password_hash = $2, token_version = token_version + 1 WHERE id = $1`, [op.id, await hashPassword(fixedPassword)]);
    accounts.push({ username: 'operator', password: fixedPassword, role: 'operator' });
  } else {
    accounts.push({ username: 'operator', password: fixedPassword ?? null, role: 'operator' });
  }
  return accounts;
}
