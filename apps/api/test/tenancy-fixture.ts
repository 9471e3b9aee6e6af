/** Tenants, domains and mailboxes written straight to the database, so auth and policy tests do not depend on other modules' endpoints. */
import { request as httpRequest } from 'node:http';
import type { DataSource } from 'typeorm';
import { hashPassword } from '@dizi/auth/password-hash';
import type { MailboxRole } from '@dizi/domain/roles';
import type { Reply } from './harness';

export interface SeededMailbox {
  id: string;
  address: string;
  role: MailboxRole;
  domainId: string;
}

export interface SeededTenant {
  id: string;
  name: string;
  domains: { id: string; name: string }[];
  mailboxes: SeededMailbox[];
}

let cachedHash: { password: string; hash: Promise<string> } | undefined;

/** One argon2id hash per password, reused: hashing is the slow part of seeding. */
export function hashOnce(password: string): Promise<string> {
  if (cachedHash?.password !== password) cachedHash = { password, hash: hashPassword(password) };
  return cachedHash.hash;
}

export async function seedTenant(
  db: DataSource,
  name: string,
  domains: string[],
  mailboxes: { local: string; domain?: string; role?: MailboxRole }[],
  password: string,
): Promise<SeededTenant> {
  const [tenant] = await db.query(`INSERT INTO tenant (name) VALUES ($1) RETURNING id`, [name]);
  const out: SeededTenant = { id: tenant.id, name, domains: [], mailboxes: [] };
  for (const d of domains) {
    const [row] = await db.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, $2, $2) RETURNING id`, [tenant.id, d]);
    out.domains.push({ id: row.id, name: d });
  }
  const hash = await hashOnce(password);
  for (const m of mailboxes) {
    const domain = out.domains.find((d) => d.name === (m.domain ?? domains[0]))!;
    const address = `${m.local}@${domain.name}`;
    const role = m.role ?? 'user';
    const [row] = await db.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, role, password_hash, quota_bytes)
       VALUES ($1, $2, $3, $4, $5, $6, 1048576) RETURNING id`,
      [tenant.id, domain.id, m.local, address, role, hash],
    );
    out.mailboxes.push({ id: row.id, address, role, domainId: domain.id });
  }
  return out;
}

/**
 * A JSON request from a chosen loopback source address: Express's req.ip is the socket's peer,
 * so this is how a test plays a second client machine.
 */
export function requestFrom<T = any>(localAddress: string, baseUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<Reply<T>> {
  const url = new URL(path, baseUrl);
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        localAddress,
        headers: {
          ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          const parsed = (res.headers['content-type'] ?? '').includes('json') && text ? JSON.parse(text) : text;
          resolve({ status: res.statusCode ?? 0, body: parsed as T, headers });
        });
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
