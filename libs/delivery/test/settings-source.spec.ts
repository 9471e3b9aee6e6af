/** The mail nodes' view of the operator settings: real PostgreSQL and Redis, announcements per installation. */
import Redis from 'ioredis';
import { Pool } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// Test infrastructure, not a runtime dependency of the delivery lib.
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@dizi/testing/test-database';
import { SettingsSource, settingsChangedChannel } from '../src/adapters/postgres/settings-source';

describe('SettingsSource', () => {
  let db: TestDatabase;
  let pool: Pool;
  let publisher: Redis;
  const prefix = `dizi-test:settings-source-${process.pid}-${Date.now()}:`;
  const cleanup: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 4 });
    pool.on('error', () => undefined); // idle clients see the teardown's DROP DATABASE
    publisher = new Redis(TEST_REDIS_URL);
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    await pool.query(`DELETE FROM system_setting`);
  });
  afterAll(async () => {
    publisher?.disconnect();
    await pool?.end();
    await db?.drop();
  });

  const store = (value: unknown) =>
    pool.query(`INSERT INTO system_setting (key, value) VALUES ('smtp', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [JSON.stringify(value)]);

  async function startNode(keyPrefix: string, pollMs = 0) {
    const errors: unknown[] = [];
    const redis = new Redis(TEST_REDIS_URL, { keyPrefix });
    const source = new SettingsSource(pool, (e) => errors.push(e), { pollMs });
    await source.start(redis);
    cleanup.push(async () => {
      await source.stop();
      redis.disconnect();
    });
    return { source, errors };
  }

  const nextChange = (source: SettingsSource, timeoutMs: number) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reload within ${timeoutMs} ms`)), timeoutMs);
      const off = source.onChange(() => {
        clearTimeout(timer);
        off();
        resolve(performance.now());
      });
    });

  it('starts with the defaults, stored fields over them', async () => {
    await store({ maxRecipients: 40, relay: { host: 'relay.example.test' } });
    const { source } = await startNode(prefix);
    expect(source.smtp.maxRecipients).toBe(40);
    expect(source.smtp.maxHops).toBe(32);
    expect(source.smtp.relay).toMatchObject({ host: 'relay.example.test', mode: 'never', port: 587 });
  });

  it("reloads within 1 s of an announcement on its installation's channel", async () => {
    const { source } = await startNode(prefix);
    expect(source.smtp.maxRecipients).toBe(16);
    await store({ maxRecipients: 77 });
    const changed = nextChange(source, 1000);
    const sent = performance.now();
    // The channel carries the installation prefix written out: ioredis would not add it to a channel.
    expect(await publisher.publish(settingsChangedChannel(prefix), 'smtp')).toBe(1);
    expect((await changed) - sent).toBeLessThan(1000);
    expect(source.smtp.maxRecipients).toBe(77);
  });

  it("does not hear another installation's announcements", async () => {
    const { source } = await startNode(prefix);
    await store({ maxRecipients: 55 });
    let reloads = 0;
    source.onChange(() => reloads++);
    await publisher.publish(settingsChangedChannel('dizi-test:some-other-installation:'), 'smtp');
    await publisher.publish('settings:changed', 'smtp');
    await new Promise((r) => setTimeout(r, 300));
    expect(reloads).toBe(0);
    expect(source.smtp.maxRecipients).toBe(16);
  });

  it('keeps the last good settings when the stored value no longer validates', async () => {
    await store({ maxRecipients: 20 });
    const { source, errors } = await startNode(prefix);
    await store({ maxRecipients: 'many' });
    await source.reload();
    expect(source.smtp.maxRecipients).toBe(20);
    expect(String(errors[0])).toMatch(/stored smtp settings are invalid/);
  });

  it('re-reads on its own timer, so a lost announcement only delays a change', async () => {
    const { source } = await startNode(prefix, 100);
    await store({ maxRecipients: 12 });
    await nextChange(source, 2000);
    expect(source.smtp.maxRecipients).toBe(12);
  });
});
