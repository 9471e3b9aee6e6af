/**
 * The one composition of mail for any process: built from the API's own validated config (as apps/api will to serve
 * JMAP), against real PostgreSQL and Redis, it delivers a spooled message into a mailbox with nothing from apps/mta.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '@dizi/config/api.config';
import { loadMtaConfig } from '@dizi/config/mta.config';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@dizi/testing/test-database';
import { composeMailRuntime, type MailRuntime } from '../src/compose';
import { LocalDelivery, type DeliveryEnqueuer } from '../src/local/local-delivery';

const silent = { info: () => undefined, warn: () => undefined };

describe('composeMailRuntime', () => {
  let db: TestDatabase;
  let pool: Pool;
  let redis: Redis;
  let dir: string;
  let runtime: MailRuntime;
  const prefix = `dizi-test:compose-${process.pid}-${Date.now()}:`;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 4 });
    pool.on('error', () => undefined);
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: null });
    dir = await mkdtemp(join(tmpdir(), 'dizi-compose-'));
    const config = loadApiConfig({ DATABASE_URL: db.url, REDIS_PREFIX: prefix, DIZI_DATA_DIR: dir, SRS_SECRETS: 'compose-secret' });
    runtime = await composeMailRuntime({ config, pool, redis, hostname: 'api.dizi.test', logger: silent });
  });

  afterAll(async () => {
    await runtime?.close();
    redis?.disconnect();
    await pool?.end();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses an S3 blob store without a bucket, naming the variable, in the API and on a node alike', () => {
    expect(() => loadApiConfig({ BLOB_STORE: 's3' })).toThrow(/S3_BUCKET: required when BLOB_STORE=s3/);
    expect(() => loadMtaConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', BLOB_STORE: 's3' })).toThrow(/S3_BUCKET: required when BLOB_STORE=s3/);
  });

  it('gives the stores and delivery ports that put a spooled message into a mailbox, blobs under DIZI_DATA_DIR', async () => {
    const { rows: [t] } = await pool.query(`INSERT INTO tenant (name) VALUES ('t') RETURNING id`);
    const { rows: [d] } = await pool.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'c.test', 'c.test') RETURNING id`, [t.id]);
    const { rows: [m] } = await pool.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, 'ann', 'ann@c.test', 'x', 1000000) RETURNING id`,
      [t.id, d.id],
    );
    await runtime.store.createDefaultFolders(m.id);
    expect([...(await runtime.directory.localDomains(['c.test', 'elsewhere.test']))]).toEqual(['c.test']);

    const raw = Buffer.from('From: x@remote.test\r\nTo: ann@c.test\r\nSubject: composed\r\n\r\nbody\r\n');
    const blob = await runtime.store.putBlob(raw);
    expect(existsSync(join(dir, 'blobs'))).toBe(true);
    const spooled = await runtime.spool.transaction((tx) => tx.spoolSystemMail(blob, 'x@remote.test', ['ann@c.test']));
    expect(spooled).toMatchObject({ hasLocal: true, remoteDomains: [] });

    const enqueued: string[] = [];
    const queues: DeliveryEnqueuer = { enqueueDelivery: async (id) => void enqueued.push(id), enqueueOutbound: async () => undefined };
    const delivery = new LocalDelivery({
      spool: runtime.spool, directory: runtime.directory, notices: runtime.notices, store: runtime.store, blobs: runtime.blobs,
      settings: () => runtime.settings.smtp, hostname: 'api.dizi.test', queues, srs: runtime.srs,
    });
    expect(await delivery.deliverMessage(spooled.spoolMessageId)).toEqual({ due: 1, finished: 1 });
    const inbox = await runtime.store.getFolder(m.id, { name: 'INBOX' });
    const [copy] = await runtime.store.listMessages(inbox.id);
    expect((await runtime.store.readMessage(copy)).toString()).toBe(`Return-Path: <x@remote.test>\r\nDelivered-To: ann@c.test\r\n${raw}`);
  });
});
