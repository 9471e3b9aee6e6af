/** A mailbox user's webmail preferences: theirs alone, validated, partial changes kept apart. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

describe('mailbox preferences', () => {
  let api: TestApi;
  let op: string;
  const token: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    await seedTenant(api.db.dataSource, 'Acme', ['acme.test'], [{ local: 'lee' }, { local: 'dom', role: 'domain_admin' }], TEST_PASSWORD);
    await seedTenant(api.db.dataSource, 'Beacon', ['beacon.test'], [{ local: 'eve' }], TEST_PASSWORD);
    for (const a of ['lee@acme.test', 'dom@acme.test', 'eve@beacon.test']) token[a] = await api.login(a, TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  const get = (who: string) => api.request('GET', '/api/me/preferences', { token: token[who] ?? who });
  const patch = (who: string, body: unknown) => api.request('PATCH', '/api/me/preferences', { token: token[who] ?? who, body });

  it('starts with the defaults', async () => {
    const r = await get('lee@acme.test');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ density: 'comfortable', timeZone: null, imageSenders: [] });
  });

  it('changes only the fields given, and keeps them per user', async () => {
    expect((await patch('lee@acme.test', { density: 'compact' })).body).toEqual({ density: 'compact', timeZone: null, imageSenders: [] });
    const r = await patch('lee@acme.test', { timeZone: 'Asia/Shanghai', imageSenders: ['News@Shop.example', 'news@shop.example', 'a@b.example'] });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ density: 'compact', timeZone: 'Asia/Shanghai', imageSenders: ['news@shop.example', 'a@b.example'] });
    expect((await get('lee@acme.test')).body).toEqual(r.body);
    // Another tenant's user (and the same tenant's admin) sees only their own.
    expect((await get('eve@beacon.test')).body).toEqual({ density: 'comfortable', timeZone: null, imageSenders: [] });
    expect((await get('dom@acme.test')).body).toEqual({ density: 'comfortable', timeZone: null, imageSenders: [] });
    // Revoking a sender is writing the list without it; null puts the time zone back to the browser's.
    expect((await patch('lee@acme.test', { imageSenders: ['a@b.example'], timeZone: null })).body).toEqual({ density: 'compact', timeZone: null, imageSenders: ['a@b.example'] });
  });

  it('refuses bad values with what to fix and changes nothing', async () => {
    const before = (await get('lee@acme.test')).body;
    for (const body of [{ density: 'tiny' }, { timeZone: 'Mars/Olympus' }, { imageSenders: ['not an address'] }, { colour: 'red' }, { imageSenders: Array.from({ length: 501 }, (_, i) => `s${i}@x.example`) }]) {
      const r = await patch('lee@acme.test', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(r.body)).toMatch(/density|timeZone|imageSenders|colour|Unrecognized/i);
    }
    expect((await patch('lee@acme.test', { timeZone: 'Mars/Olympus' })).body.message ?? '').toMatch(/IANA|time zone/);
    expect((await get('lee@acme.test')).body).toEqual(before);
  });

  it('is for mailbox users only, and signed in', async () => {
    expect((await get(op)).status).toBe(403);
    expect((await api.request('GET', '/api/me/preferences', {})).status).toBe(401);
  });
});
