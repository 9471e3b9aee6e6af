/**
 * The simple rules form over the API: rules written as Sieve, saved and activated through the mailbox's scripts
 * endpoint, read back as the same rules; a script edited by hand comes back as code; a bad rule gets 400 naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

describe('sieve rules API', () => {
  let api: TestApi;
  let lee: string;
  const rules = [
    {
      name: '发票 Invoices',
      enabled: true,
      match: 'all',
      conditions: [{ field: 'from', op: 'contains', value: '@billing.example' }, { field: 'size', op: 'under', value: '2M' }],
      actions: [{ type: 'flag', flag: 'seen' }, { type: 'fileinto', folder: 'Invoices' }, { type: 'stop' }],
    },
    { name: 'No casinos', enabled: false, match: 'any', conditions: [{ field: 'body', op: 'contains', value: 'casino' }], actions: [{ type: 'reject', reason: 'No thanks' }] },
  ];

  beforeAll(async () => {
    api = await startTestApi();
    await seedTenant(api.db.dataSource, 'Acme', ['acme.test'], [{ local: 'lee' }], TEST_PASSWORD);
    lee = await api.login('lee@acme.test', TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  it('writes rules as a script the scripts endpoint accepts, and reads the stored script back as the same rules', async () => {
    const made = await api.request('POST', '/api/sieve/rules/script', { token: lee, body: { rules } });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    expect(made.body.content).toContain('fileinto :create "Invoices";');
    const saved = await api.request('POST', '/api/mailboxes/lee%40acme.test/sieve/scripts', { token: lee, body: { name: 'rules', content: made.body.content, activate: true } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const stored = await api.request('GET', '/api/mailboxes/lee%40acme.test/sieve/scripts/rules', { token: lee });
    const back = await api.request('POST', '/api/sieve/rules/read', { token: lee, body: { content: stored.body.content } });
    expect(back.status).toBe(200);
    expect(back.body).toEqual({ kind: 'rules', rules });
  });

  it('shows a hand-edited script as code, and refuses a bad rule naming the rule and field', async () => {
    const made = await api.request('POST', '/api/sieve/rules/script', { token: lee, body: { rules } });
    const edited = await api.request('POST', '/api/sieve/rules/read', { token: lee, body: { content: made.body.content.replace('stop;', 'stop; # mine') } });
    expect(edited.body).toMatchObject({ kind: 'code' });
    expect(edited.body.rules).toBeUndefined();
    const bad = await api.request('POST', '/api/sieve/rules/script', {
      token: lee,
      body: { rules: [rules[0], { ...rules[1], conditions: [{ field: 'size', op: 'over', value: '10 MB' }] }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('rule 2: conditions[0]');
    expect((await api.request('POST', '/api/sieve/rules/script', { token: lee, body: { rules: [{ ...rules[0], extra: 1 }] } })).status).toBe(400);
    expect((await api.request('POST', '/api/sieve/rules/script', { body: { rules } })).status).toBe(401);
  });
});
