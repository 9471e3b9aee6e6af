/**
 * The verified-sign-in cache of MailboxLogin on real PostgreSQL and Redis: a repeated sign-in skips argon2id, while a
 * wrong password, a password change, a suspension, a delete, a protocol switched off and an expired entry all go
 * back to the database's answer at once.
 */
import Redis from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@dizi/testing/test-database';
import { LoginCache } from '../src/login-cache';
import { type LoginChannel, MailboxLogin } from '../src/mailbox-login';
import { LoginThrottle } from '../src/login-throttle';
import { hashPassword } from '../src/password-hash';

describe('MailboxLogin with the verified-sign-in cache', () => {
  let db: TestDatabase;
  let domainId: string;
  let tenantId: string;
  let clock = 1_000_000;
  const prefix = `dizi-test:login-cache-${process.pid}-${Date.now()}:`;
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
  const throttle = new LoginThrottle(redis, { maxFailuresPerAccountIp: 1000, maxFailuresPerIp: 1000 });

  /** A MailboxLogin whose argon2id checks are counted (the real check still runs). */
  function counted(cache = { ttlMs: 60_000, maxEntries: 100, now: () => clock }) {
    const login = new MailboxLogin(db.dataSource, throttle, { failureDelayMs: 0, cache });
    const checks = { n: 0 };
    const real = login.checkPassword.bind(login);
    login.checkPassword = async (password, stored) => {
      checks.n++;
      return real(password, stored);
    };
    const signIn = async (who: string, password: string, channel: LoginChannel = 'imap') => {
      const outcome = await login.login(who, password, '192.0.2.9', channel);
      return outcome.ok ? 'ok' : outcome.reason;
    };
    return { login, checks, signIn };
  }

  async function mailbox(localPart: string, password: string): Promise<string> {
    const [m] = await db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, status, quota_bytes, used_bytes)
       VALUES ($1, $2, $3, $3 || '@cache.test', $4, 'active', 1000000, 0) RETURNING id`,
      [tenantId, domainId, localPart, await hashPassword(password)],
    );
    return m.id;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const [t] = await db.dataSource.query(`INSERT INTO tenant (name) VALUES ('cache') RETURNING id`);
    tenantId = t.id;
    const [d] = await db.dataSource.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, 'cache.test', 'cache.test') RETURNING id`, [tenantId]);
    domainId = d.id;
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
    const keys = await redis.keys(`${prefix}*`);
    const plain = new Redis(TEST_REDIS_URL);
    if (keys.length > 0) await plain.del(...keys);
    plain.disconnect();
    redis.disconnect();
  });

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('checks the password once, then trusts the kept proof; a wrong password is checked every time and never kept', async () => {
    await mailbox('ann', 'right horse battery');
    const { checks, signIn, login } = counted();
    expect(await signIn('ann@cache.test', 'right horse battery')).toBe('ok');
    expect(checks.n).toBe(1);
    expect(await signIn('ANN@cache.test', 'right horse battery', 'pop3')).toBe('ok');
    expect(await signIn('ann@cache.test', 'right horse battery', 'smtp')).toBe('ok');
    expect(checks.n).toBe(1);
    for (let i = 0; i < 2; i++) expect(await signIn('ann@cache.test', 'wrong horse battery')).toBe('invalid');
    expect(checks.n).toBe(3);
    // The right password's entry survives the wrong attempts; the cache never holds the password itself.
    expect(await signIn('ann@cache.test', 'right horse battery')).toBe('ok');
    expect(checks.n).toBe(3);
    expect(login.cache.size).toBe(1);
    expect(JSON.stringify([...(login.cache as unknown as { entries: Map<string, unknown> }).entries])).not.toContain('horse');
  });

  it('refuses the old password at once after a password change, and accepts the new one', async () => {
    const id = await mailbox('bob', 'first secret 1');
    const { checks, signIn } = counted();
    expect(await signIn('bob@cache.test', 'first secret 1')).toBe('ok');
    await db.dataSource.query(`UPDATE mailbox SET password_hash = $2 WHERE id = $1`, [id, await hashPassword('second secret 2')]);
    expect(await signIn('bob@cache.test', 'first secret 1')).toBe('invalid');
    expect(await signIn('bob@cache.test', 'second secret 2')).toBe('ok');
    expect(checks.n).toBe(3);
    expect(await signIn('bob@cache.test', 'second secret 2')).toBe('ok');
    expect(checks.n).toBe(3);
  });

  it('refuses at once on suspension, protocol switch-off and delete, and checks the password again after reactivation', async () => {
    const id = await mailbox('cat', 'cat password 9');
    const { checks, signIn, login } = counted();
    expect(await signIn('cat@cache.test', 'cat password 9')).toBe('ok');
    await db.dataSource.query(`UPDATE mailbox SET status = 'suspended' WHERE id = $1`, [id]);
    expect(await signIn('cat@cache.test', 'cat password 9')).toBe('invalid');
    expect(login.cache.size).toBe(0);
    await db.dataSource.query(`UPDATE mailbox SET status = 'active' WHERE id = $1`, [id]);
    const before = checks.n;
    expect(await signIn('cat@cache.test', 'cat password 9')).toBe('ok');
    expect(checks.n).toBe(before + 1);

    await db.dataSource.query(`UPDATE domain SET pop3_enabled = false WHERE id = $1`, [domainId]);
    try {
      expect(await signIn('cat@cache.test', 'cat password 9', 'pop3')).toBe('invalid');
    } finally {
      await db.dataSource.query(`UPDATE domain SET pop3_enabled = true WHERE id = $1`, [domainId]);
    }
    expect(await signIn('cat@cache.test', 'cat password 9')).toBe('ok');

    await db.dataSource.query(`DELETE FROM mailbox WHERE id = $1`, [id]);
    expect(await signIn('cat@cache.test', 'cat password 9')).toBe('invalid');
    expect(login.cache.size).toBe(0);
  });

  it('checks the password again once the entry is older than the TTL, and keeps at most maxEntries', async () => {
    await mailbox('dan', 'dan password 7');
    await mailbox('eve', 'eve password 7');
    const { checks, signIn, login } = counted({ ttlMs: 1000, maxEntries: 1, now: () => clock });
    expect(await signIn('dan@cache.test', 'dan password 7')).toBe('ok');
    clock += 999;
    expect(await signIn('dan@cache.test', 'dan password 7')).toBe('ok');
    expect(checks.n).toBe(1);
    clock += 1;
    expect(await signIn('dan@cache.test', 'dan password 7')).toBe('ok');
    expect(checks.n).toBe(2);
    expect(await signIn('eve@cache.test', 'eve password 7')).toBe('ok');
    expect(login.cache.size).toBe(1);
    expect(await signIn('dan@cache.test', 'dan password 7')).toBe('ok');
    expect(checks.n).toBe(4);
  });

  it('runs one check for sign-ins that arrive together with the same password, and none is let in by a wrong one', async () => {
    await mailbox('gus', 'gus password 3');
    const { checks, signIn } = counted();
    const together = await Promise.all([
      ...Array.from({ length: 5 }, () => signIn('gus@cache.test', 'gus password 3')),
      signIn('gus@cache.test', 'gus password 4'),
    ]);
    expect(together).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'invalid']);
    expect(checks.n).toBe(2);
    const wrong = await Promise.all(Array.from({ length: 3 }, () => signIn('gus@cache.test', 'not gus password')));
    expect(wrong).toEqual(['invalid', 'invalid', 'invalid']);
    expect(await signIn('gus@cache.test', 'not gus password')).toBe('invalid');
    expect(await signIn('gus@cache.test', 'gus password 3')).toBe('ok');
    expect(checks.n).toBe(4);
  });

  it('does nothing when turned off (TTL 0)', async () => {
    await mailbox('fay', 'fay password 5');
    const { checks, signIn } = counted({ ttlMs: 0, maxEntries: 100, now: () => clock });
    for (let i = 0; i < 3; i++) expect(await signIn('fay@cache.test', 'fay password 5')).toBe('ok');
    expect(checks.n).toBe(3);
    expect(new LoginCache({ ttlMs: 0, maxEntries: 10 }).enabled).toBe(false);
  });
});
