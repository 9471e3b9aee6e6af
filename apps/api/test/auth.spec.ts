/** Mailbox password sign-in: tokens, refresh rotation, revocation, suspension, throttling and legacy hash upgrade. */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { requestFrom, seedTenant, SeededTenant } from './tenancy-fixture';

const OTHER_IP = '127.0.0.2';

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

describe('mailbox sign-in', () => {
  let api: TestApi;
  let op: string;
  let t: SeededTenant;

  const login = (username: string, password = TEST_PASSWORD) => api.request<Tokens & { actor: any }>('POST', '/api/auth/login', { body: { username, password } });
  const refresh = (refreshToken: string) => api.request<Tokens>('POST', '/api/auth/refresh', { body: { refreshToken } });
  const me = (token: string) => api.request('GET', '/api/auth/me', { token });

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    t = await seedTenant(api.db.dataSource, 'Harbour Mail', ['harbour.test', 'quay.test'], [
      { local: 'alice' },
      { local: 'bob' },
      { local: 'carol', domain: 'quay.test' },
      { local: 'dave' },
      { local: 'erin', domain: 'quay.test' },
      { local: 'frank' },
    ], TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  it('signs in by address, in any case, and /me tells who is signed in', async () => {
    const r = await login('Alice@HARBOUR.test');
    expect(r.status).toBe(200);
    expect(r.body.actor).toMatchObject({ role: 'user', kind: 'mailbox', name: 'alice@harbour.test', tenantId: t.id, domainId: t.domains[0].id, mailboxId: t.mailboxes[0].id });
    expect(r.body.accessToken).toMatch(/^ey/);
    expect(r.body.refreshToken).toMatch(/^dzr_/);
    const who = await me(r.body.accessToken);
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ role: 'user', kind: 'mailbox', id: t.mailboxes[0].id, name: 'alice@harbour.test', tenantId: t.id });
    expect((await api.request('GET', '/api/auth/me')).status).toBe(401);
    expect((await me('not-a-token')).status).toBe(401);
  });

  it('signs in by bare name only on the default domain', async () => {
    expect((await login('alice')).status).toBe(401);
    const set = await api.request('PATCH', `/api/domains/${t.domains[0].id}`, { token: op, body: { isDefault: true } });
    expect(set.status).toBe(200);
    expect(set.body.isDefault).toBe(true);
    const r = await login('alice');
    expect(r.status).toBe(200);
    expect(r.body.actor.name).toBe('alice@harbour.test');
    // carol lives on the other domain: her bare name means carol@harbour.test, which does not exist.
    expect((await login('carol')).status).toBe(401);
    expect((await login('carol@quay.test')).status).toBe(200);
  });

  it('answers a wrong password exactly like an unknown account', async () => {
    const wrong = await login('bob@harbour.test', 'not-the-password');
    const unknown = await login('nobody@harbour.test', 'not-the-password');
    const noDomain = await login('bob@nowhere.test', 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(noDomain.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(noDomain.body).toEqual(wrong.body);
  });

  it('refuses an account whose stored hash is unreadable like a wrong password', async () => {
    await api.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, 'broken', 'broken@harbour.test', 'not-a-hash', 0)`,
      [t.id, t.domains[0].id],
    );
    const r = await login('broken@harbour.test', 'not-a-hash');
    expect(r.status).toBe(401);
    expect(r.body).toEqual((await login('nobody@harbour.test', 'not-a-hash')).body);
  });

  it('refuses a bad body naming the field', async () => {
    const r = await api.request('POST', '/api/auth/login', { body: { username: 'bob@harbour.test' } });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('password');
  });

  it('rotates refresh tokens: each works once, and a replayed one ends the whole family', async () => {
    const first = (await login('bob@harbour.test')).body;
    const second = await refresh(first.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await me(second.body.accessToken)).status).toBe(200);

    const replay = await refresh(first.refreshToken);
    expect(replay.status).toBe(401);
    // The thief and the owner cannot tell which of them holds the live token, so both lose it.
    expect((await refresh(second.body.refreshToken)).status).toBe(401);
    // ...and the access tokens already handed out end now, not at their expiry.
    expect((await me(second.body.accessToken)).status).toBe(401);
    const [{ live }] = await api.db.dataSource.query(
      `SELECT count(*)::int AS live FROM refresh_token WHERE subject_id = $1 AND revoked_at IS NULL`,
      [t.mailboxes[1].id],
    );
    expect(live).toBe(0);
    expect((await refresh('dzr_this-token-was-never-issued')).status).toBe(401);
  });

  it('logs out: the refresh token and the access token issued with it stop working, other sessions do not', async () => {
    const s = (await login('dave@harbour.test')).body;
    const elsewhere = (await login('dave@harbour.test')).body;
    expect((await me(s.accessToken)).status).toBe(200);
    const out = await api.request('POST', '/api/auth/logout', { body: { refreshToken: s.refreshToken } });
    expect(out.status).toBe(204);
    expect((await refresh(s.refreshToken)).status).toBe(401);
    expect((await me(s.accessToken)).status).toBe(401);
    expect((await me(elsewhere.accessToken)).status).toBe(200);
    // Signing out with the bearer token of a refreshed session ends that access token too.
    const renewed = (await refresh(elsewhere.refreshToken)).body;
    const bye = await api.request('POST', '/api/auth/logout', { token: elsewhere.accessToken, body: { refreshToken: renewed.refreshToken } });
    expect(bye.status).toBe(204);
    expect((await me(renewed.accessToken)).status).toBe(401);
    expect((await me(elsewhere.accessToken)).status).toBe(401);
  });

  it('changes the password and ends every existing session', async () => {
    const s = (await login('frank@harbour.test')).body;
    const other = (await login('frank@harbour.test')).body;
    const bad = await api.request('POST', '/api/auth/password', { token: s.accessToken, body: { currentPassword: 'wrong-one', newPassword: 'New-password-2' } });
    expect(bad.status).toBe(401);
    const short = await api.request('POST', '/api/auth/password', { token: s.accessToken, body: { currentPassword: TEST_PASSWORD, newPassword: 'short' } });
    expect(short.status).toBe(400);
    expect(short.body.field).toBe('newPassword');

    const ok = await api.request('POST', '/api/auth/password', { token: s.accessToken, body: { currentPassword: TEST_PASSWORD, newPassword: 'New-password-2' } });
    expect(ok.status).toBe(204);
    expect((await me(s.accessToken)).status).toBe(401);
    expect((await me(other.accessToken)).status).toBe(401);
    expect((await refresh(s.refreshToken)).status).toBe(401);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    expect((await login('frank@harbour.test')).status).toBe(401);
    const fresh = await login('frank@harbour.test', 'New-password-2');
    expect(fresh.status).toBe(200);
    expect((await me(fresh.body.accessToken)).status).toBe(200);
    const [audit] = await api.db.dataSource.query(`SELECT actor_name FROM audit_event WHERE action = 'password.change' AND object_id = $1`, [t.mailboxes[5].id]);
    expect(audit?.actor_name).toBe('frank@harbour.test');
  });

  it('suspending the tenant ends sessions and sign-in; resuming restores sign-in', async () => {
    const s = (await login('carol@quay.test')).body;
    const wrongPassword = (await login('carol@quay.test', 'nope-nope')).body;
    expect((await api.request('POST', `/api/tenants/${t.id}/suspend`, { token: op })).status).toBe(200);
    expect((await me(s.accessToken)).status).toBe(401);
    expect((await refresh(s.refreshToken)).status).toBe(401);
    const refused = await login('carol@quay.test');
    expect(refused.status).toBe(401);
    // Suspension is not told apart from a wrong password.
    expect(refused.body).toEqual(wrongPassword);

    expect((await api.request('POST', `/api/tenants/${t.id}/resume`, { token: op })).status).toBe(200);
    expect((await me(s.accessToken)).status).toBe(401);
    const back = await login('carol@quay.test');
    expect(back.status).toBe(200);
    expect((await me(back.body.accessToken)).status).toBe(200);
  });

  it('disabling the domain ends sessions and sign-in of its mailboxes only; enabling restores it', async () => {
    const erin = (await login('erin@quay.test')).body;
    const alice = (await login('alice@harbour.test')).body;
    const off = await api.request('PATCH', `/api/domains/quay.test`, { token: op, body: { status: 'disabled' } });
    expect(off.status).toBe(200);
    expect(off.body.status).toBe('disabled');
    expect((await me(erin.accessToken)).status).toBe(401);
    expect((await refresh(erin.refreshToken)).status).toBe(401);
    expect((await login('erin@quay.test')).status).toBe(401);
    expect((await me(alice.accessToken)).status).toBe(200);

    expect((await api.request('PATCH', `/api/domains/quay.test`, { token: op, body: { status: 'active' } })).status).toBe(200);
    expect((await login('erin@quay.test')).status).toBe(200);
  });

  it('upgrades a legacy SHA512-CRYPT hash to argon2id at sign-in', async () => {
    const legacy = execFileSync('openssl', ['passwd', '-6', 'Legacy-password-9'], { encoding: 'utf8' }).trim();
    expect(legacy).toMatch(/^\$6\$/);
    await api.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, 'grace', 'grace@harbour.test', $3, 0)`,
      [t.id, t.domains[0].id, `{SHA512-CRYPT}${legacy}`],
    );
    expect((await login('grace@harbour.test', 'Legacy-password-8')).status).toBe(401);
    const [still] = await api.db.dataSource.query(`SELECT password_hash FROM mailbox WHERE address = 'grace@harbour.test'`);
    expect(still.password_hash).toBe(`{SHA512-CRYPT}${legacy}`);

    expect((await login('grace@harbour.test', 'Legacy-password-9')).status).toBe(200);
    const [row] = await api.db.dataSource.query(`SELECT password_hash FROM mailbox WHERE address = 'grace@harbour.test'`);
    expect(row.password_hash).toMatch(/^\{ARGON2ID\}\$argon2id\$/);
    expect((await login('grace@harbour.test', 'Legacy-password-9')).status).toBe(200);
    expect((await login('grace@harbour.test', 'Legacy-password-8')).status).toBe(401);
  });
});

describe('failed sign-in throttling', () => {
  let api: TestApi;
  let t: SeededTenant;
  const prefix = () => `dizi-test:${api.db.name}:`;
  const loginFrom = (ip: string, username: string, password = TEST_PASSWORD) => requestFrom(ip, api.url, 'POST', '/api/auth/login', { username, password });

  beforeAll(async () => {
    api = await startTestApi({ LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: '3', LOGIN_MAX_FAILURES_PER_IP: '6', LOGIN_FAILURE_DELAY_MS: '300' });
    t = await seedTenant(api.db.dataSource, 'Throttle Mail', ['throttle.test'], [
      { local: 'hana' }, { local: 'ivan' }, { local: 'judy' }, { local: 'karl' }, { local: 'lena' },
    ], TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  it('delays every failed sign-in by LOGIN_FAILURE_DELAY_MS', async () => {
    const started = performance.now();
    const r = await loginFrom('127.0.0.1', 'lena@throttle.test', 'wrong-password');
    expect(r.status).toBe(401);
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    expect((await loginFrom('127.0.0.1', 'lena@throttle.test')).status).toBe(200);
  });

  it('pauses an account for one address after N failures, but not for its owner elsewhere, and only for a while', async () => {
    for (let i = 0; i < 3; i++) expect((await loginFrom('127.0.0.1', 'hana@throttle.test', `guess-${i}`)).status).toBe(401);
    const blocked = await loginFrom('127.0.0.1', 'hana@throttle.test');
    expect(blocked.status).toBe(429);
    expect(blocked.body.message).toMatch(/try again in \d+ s/);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user from the same address is not affected by hana's pair counter.
    expect((await loginFrom('127.0.0.1', 'ivan@throttle.test')).status).toBe(200);
    // The real hana, from her own machine, still signs in.
    expect((await loginFrom(OTHER_IP, 'hana@throttle.test')).status).toBe(200);

    const key = `${prefix()}login:acct-ip:hana@throttle.test|127.0.0.1`;
    const ttl = await api.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(15 * 60 * 1000);
  });

  it('pauses an address after too many failures on any accounts, and only for a while', async () => {
    const ip = '127.0.0.3';
    const accounts = ['judy', 'karl', 'nobody1', 'nobody2', 'judy', 'karl'];
    for (const a of accounts) expect((await loginFrom(ip, `${a}@throttle.test`, 'bad-guess')).status).toBe(401);
    expect((await loginFrom(ip, 'lena@throttle.test')).status).toBe(429);
    expect((await loginFrom(OTHER_IP, 'judy@throttle.test')).status).toBe(200);
    const ttl = await api.redis.pttl(`${prefix()}login:ip:${ip}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60 * 60 * 1000);
  });

  it('pauses an account guessed from many addresses, except from addresses its owner signed in from', async () => {
    // The owner signs in from 127.0.0.2 first; then 30 failures arrive from ten other addresses.
    expect((await loginFrom(OTHER_IP, 'ivan@throttle.test')).status).toBe(200);
    await Promise.all(
      Array.from({ length: 10 }, async (_, n) => {
        for (let i = 0; i < 3; i++) expect((await loginFrom(`127.0.1.${n + 1}`, 'ivan@throttle.test', `spray-${i}`)).status).toBe(401);
      }),
    );
    expect((await loginFrom('127.0.2.1', 'ivan@throttle.test')).status).toBe(429);
    expect((await loginFrom(OTHER_IP, 'ivan@throttle.test')).status).toBe(200);
    const ttl = await api.redis.pttl(`${prefix()}login:acct:ivan@throttle.test`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10 * 60 * 1000);
    expect(t.mailboxes).toHaveLength(5);
  });
});

describe('sign-in from one address shared by many people (NAT, webmail front end)', () => {
  let api: TestApi;

  beforeAll(async () => {
    // The production defaults: no LOGIN_MAX_FAILURES_* here.
    api = await startTestApi();
    await seedTenant(api.db.dataSource, 'Office Mail', ['office.test'], Array.from({ length: 21 }, (_, i) => ({ local: `staff${i}` })), TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  it('lets the others sign in after 60 mistyped passwords from the same address', async () => {
    const ip = '127.0.0.4';
    for (let i = 0; i < 20; i++) {
      for (let n = 0; n < 3; n++) expect((await requestFrom(ip, api.url, 'POST', '/api/auth/login', { username: `staff${i}@office.test`, password: `typo-${n}` })).status).toBe(401);
    }
    expect((await requestFrom(ip, api.url, 'POST', '/api/auth/login', { username: 'staff20@office.test', password: TEST_PASSWORD })).status).toBe(200);
    // The pair that guessed is still slowed: five wrong guesses for one account from the address pause it.
    for (let n = 3; n < 5; n++) await requestFrom(ip, api.url, 'POST', '/api/auth/login', { username: 'staff0@office.test', password: `typo-${n}` });
    expect((await requestFrom(ip, api.url, 'POST', '/api/auth/login', { username: 'staff0@office.test', password: TEST_PASSWORD })).status).toBe(429);
  });
});
