/**
 * A mail node for tests: a fresh database on the machine's PostgreSQL, a unique Redis prefix, a temp
 * blob directory and the chosen roles started in-process on ephemeral ports. Shared by every mail-flow spec.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { hashPassword } from '@dizi/auth/password-hash';
import { loadMtaConfig, MtaRole } from '@dizi/config/mta.config';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { settingsChangedChannel } from '@dizi/delivery/adapters/postgres/settings-source';
import { createTestDatabase, TEST_REDIS_URL, TestDatabase } from '@dizi/testing/test-database';
import { until } from '@dizi/testing/until';
import { createContext, MtaContext } from '../src/context';
import { startDeliveryRole } from '../src/roles/delivery.role';
import { startImapRole } from '../src/roles/imap.role';
import { startOutboundRole } from '../src/roles/outbound.role';
import { startPop3Role } from '../src/roles/pop3.role';
import { startSieveRole } from '../src/roles/sieve.role';
import type { RunningRole } from '../src/roles/role';
import { startSchedulerRole } from '../src/roles/scheduler.role';
import { SmtpRoleOptions, SmtpRunningRole, startSmtpRole } from '../src/roles/smtp.role';

export const TEST_MAILBOX_PASSWORD = 'Mail-password-1';

export interface SeedDomainOptions {
  status?: 'active' | 'disabled';
  smtpEnabled?: boolean;
  localOnly?: boolean;
  isDefault?: boolean;
  mailboxDailySendLimit?: number | null;
  mailboxDefaultQuotaBytes?: number;
}

export interface SeedMailboxOptions {
  status?: 'active' | 'suspended';
  quotaBytes?: number;
  usedBytes?: number;
  maySendOutside?: boolean;
  dailySendLimit?: number | null;
  displayName?: string;
  role?: 'user' | 'domain_admin' | 'tenant_admin';
}

export interface SeedGroupOptions {
  postingPolicy?: 'anyone' | 'same_domain' | 'local' | 'authenticated' | 'members' | 'listed';
  allowedSenders?: string[];
  keepCopy?: boolean;
  rewriteRecipient?: boolean;
  name?: string;
}

export interface Seeder {
  tenant(name: string, opts?: { status?: 'active' | 'suspended' }): Promise<{ id: string; name: string }>;
  domain(tenantId: string, name: string, opts?: SeedDomainOptions): Promise<{ id: string; name: string; tenantId: string }>;
  /** Creates the mailbox row and its default folders (INBOX, Sent, Drafts, Trash, Junk, Virus). */
  mailbox(domainId: string, localPart: string, password?: string, opts?: SeedMailboxOptions): Promise<{ id: string; address: string; domainId: string; tenantId: string }>;
  /** `localPart` `*` makes the domain's catch-all. */
  alias(domainId: string, localPart: string, destinations: string[], opts?: { enabled?: boolean }): Promise<{ id: string; address: string }>;
  group(domainId: string, localPart: string, members: string[], opts?: SeedGroupOptions): Promise<{ id: string; address: string }>;
}

export interface TestNodeOptions {
  roles?: MtaRole[];
  /** Written into system_setting `smtp` before the node starts. */
  settings?: Partial<SmtpSettings>;
  /** Extra environment for loadMtaConfig (e.g. DNS_SERVERS). */
  env?: Record<string, string>;
  smtp?: SmtpRoleOptions;
}

export interface TestNode {
  /** Bound ports of the SMTP listeners (0 when the smtp role is not running). */
  ports: { smtp: number; submission: number; submissions: number };
  ctx: MtaContext;
  db: TestDatabase;
  seed: Seeder;
  roles: RunningRole[];
  /** The Redis prefix of this node (keys, and BullMQ under `${prefix}bull`). */
  redisPrefix: string;
  /**
   * Merges `patch` into system_setting `smtp`; then either announces it on Redis the way the API does
   * (`publish: true`, waits until this node has reloaded) or reloads this node directly.
   */
  setSettings(patch: Partial<SmtpSettings>, opts?: { publish?: boolean }): Promise<void>;
  close(): Promise<void>;
}

const STARTERS: Record<Exclude<MtaRole, 'smtp'>, (ctx: MtaContext) => Promise<RunningRole>> = {
  imap: startImapRole,
  pop3: startPop3Role,
  sieve: startSieveRole,
  delivery: startDeliveryRole,
  outbound: startOutboundRole,
  scheduler: startSchedulerRole,
};

export async function startTestNode(opts: TestNodeOptions = {}): Promise<TestNode> {
  const db = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'dizi-mta-test-'));
  const redisPrefix = `dizi-test:${db.name}:`;
  const sql = (text: string, params?: unknown[]) => db.dataSource.query(text, params);

  if (opts.settings) await writeSettings(sql, opts.settings);

  const config = loadMtaConfig({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    MTA_ROLES: (opts.roles ?? ['smtp']).join(','),
    MTA_HOSTNAME: 'mx.dizi.test',
    MTA_BIND: '127.0.0.1',
    SMTP_PORT: '0',
    SUBMISSION_PORT: '0',
    SUBMISSIONS_PORT: '0',
    IMAP_PORT: '0',
    IMAPS_PORT: '0',
    POP3_PORT: '0',
    POP3S_PORT: '0',
    SIEVE_PORT: '0',
    DIZI_DATA_DIR: dir,
    BLOB_DIR: join(dir, 'blobs'),
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const ctx = await createContext(config);

  const roles: RunningRole[] = [];
  const ports = { smtp: 0, submission: 0, submissions: 0 };
  for (const role of config.MTA_ROLES) {
    if (role === 'smtp') {
      const smtp: SmtpRunningRole = await startSmtpRole(ctx, { authFailureDelayMs: 0, ...opts.smtp });
      Object.assign(ports, smtp.ports);
      roles.push(smtp);
    } else {
      roles.push(await STARTERS[role](ctx));
    }
  }

  const seed: Seeder = {
    async tenant(name, o = {}) {
      const [row] = await sql(`INSERT INTO tenant (name, status) VALUES ($1, $2) RETURNING id`, [name, o.status ?? 'active']);
      return { id: row.id, name };
    },
    async domain(tenantId, name, o = {}) {
      const [row] = await sql(
        `INSERT INTO domain (tenant_id, name, unicode_name, status, smtp_enabled, local_only, is_default, mailbox_daily_send_limit,
                             mailbox_default_quota_bytes)
         VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [tenantId, name, o.status ?? 'active', o.smtpEnabled ?? true, o.localOnly ?? false, o.isDefault ?? false, o.mailboxDailySendLimit ?? null, o.mailboxDefaultQuotaBytes ?? 1073741824],
      );
      return { id: row.id, name, tenantId };
    },
    async mailbox(domainId, localPart, password = TEST_MAILBOX_PASSWORD, o = {}) {
      const [row] = await sql(
        `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, role, password_hash, status, may_send_outside,
                              quota_bytes, used_bytes, daily_send_limit)
         SELECT d.tenant_id, d.id, $2::text, $2::text || '@' || d.name, $3, $4, $5, $6, $7, COALESCE($8::bigint, d.mailbox_default_quota_bytes), $9, $10
           FROM domain d WHERE d.id = $1
         RETURNING id, address, tenant_id`,
        [domainId, localPart, o.displayName ?? '', o.role ?? 'user', await hashPassword(password), o.status ?? 'active', o.maySendOutside ?? true, o.quotaBytes ?? null, o.usedBytes ?? 0, o.dailySendLimit ?? null],
      );
      await ctx.store.createDefaultFolders(row.id);
      return { id: row.id, address: row.address, domainId, tenantId: row.tenant_id };
    },
    async alias(domainId, localPart, destinations, o = {}) {
      const [row] = await sql(
        `INSERT INTO alias (tenant_id, domain_id, local_part, address, destinations, enabled)
         SELECT d.tenant_id, d.id, $2::text, $2::text || '@' || d.name, $3, $4 FROM domain d WHERE d.id = $1
         RETURNING id, address`,
        [domainId, localPart, destinations, o.enabled ?? true],
      );
      return { id: row.id, address: row.address };
    },
    async group(domainId, localPart, members, o = {}) {
      const [row] = await sql(
        `INSERT INTO mail_group (tenant_id, domain_id, local_part, address, name, posting_policy, allowed_senders, keep_copy, rewrite_recipient)
         SELECT d.tenant_id, d.id, $2::text, $2::text || '@' || d.name, $3, $4, $5, $6, $7 FROM domain d WHERE d.id = $1
         RETURNING id, address`,
        [domainId, localPart, o.name ?? '', o.postingPolicy ?? 'anyone', o.allowedSenders ?? [], o.keepCopy ?? false, o.rewriteRecipient ?? false],
      );
      for (const m of members) await sql(`INSERT INTO mail_group_member (group_id, member) VALUES ($1, $2)`, [row.id, m]);
      return { id: row.id, address: row.address };
    },
  };

  const setSettings = async (patch: Partial<SmtpSettings>, o: { publish?: boolean } = {}) => {
    await writeSettings(sql, patch);
    if (!o.publish) return ctx.settings.reload();
    const reloaded = new Promise<void>((resolve) => {
      const off = ctx.settings.onChange(() => {
        off();
        resolve();
      });
    });
    const publisher = new Redis(TEST_REDIS_URL);
    try {
      await publisher.publish(settingsChangedChannel(redisPrefix), 'smtp');
    } finally {
      publisher.disconnect();
    }
    await reloaded;
  };

  return {
    ports,
    ctx,
    db,
    seed,
    roles,
    redisPrefix,
    setSettings,
    async close() {
      for (const r of [...roles].reverse()) await r.stop().catch(() => undefined);
      await ctx.close();
      const redis = new Redis(TEST_REDIS_URL);
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function writeSettings(sql: (text: string, params?: unknown[]) => Promise<unknown>, patch: Partial<SmtpSettings>): Promise<void> {
  await sql(
    `INSERT INTO system_setting (key, value) VALUES ('smtp', $1::jsonb)
     ON CONFLICT (key) DO UPDATE SET value = system_setting.value || EXCLUDED.value, updated_at = now()`,
    [JSON.stringify(patch)],
  );
}

/** A stored copy of a spooled message, as the wire tests look at it. */
export interface StoredCopy {
  address: string;
  folder: string;
  special_use: string | null;
  header_prefix: string;
  id: string;
}

/**
 * The stored copies of spool message `spoolId`, once at least `copies` exist and none of its recipients is still
 * queued or deferred (so side effects such as auto-replies are done); sorted by mailbox address.
 */
export async function storedCopies(node: TestNode, spoolId: string, copies = 1): Promise<StoredCopy[]> {
  const sql = (text: string, params: unknown[]) => node.db.dataSource.query(text, params);
  return until(`delivery of ${spoolId}`, async () => {
    const [open] = await sql(`SELECT count(*)::int AS n FROM spool_recipient WHERE message_id = $1 AND status IN ('queued', 'deferred')`, [spoolId]);
    if (open.n > 0) return null;
    const rows: StoredCopy[] = await sql(
      `SELECT mb.address, f.name AS folder, f.special_use, m.header_prefix, m.id::text AS id
         FROM message m JOIN folder f ON f.id = m.folder_id JOIN mailbox mb ON mb.id = m.mailbox_id
        WHERE m.delivery_key LIKE $1 ORDER BY mb.address`,
      [`${spoolId}:%`],
    );
    return rows.length >= copies ? rows : null;
  });
}
