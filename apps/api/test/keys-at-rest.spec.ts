/**
 * Private keys at rest (issue 12 item 10): the token-signing key and DKIM keys are sealed in PostgreSQL with the
 * installation's SecretBox, rows left in clear by an earlier release are sealed at start, and signing still works.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimKeyField, openKeyAtRest, systemKeyField } from '@dizi/auth/keys-at-rest';
import { SecretBox } from '@dizi/auth/secret-box';
import { SystemKeyService } from '../src/modules/auth/system-key.service';
import { startTestApi, TestApi } from './harness';

const SETTINGS_KEY = randomBytes(32);
const box = new SecretBox(SETTINGS_KEY);
const PEM = /-----BEGIN|PRIVATE KEY/;

describe('private keys at rest', () => {
  let api: TestApi;
  let op: string;
  const raw = async (sql: string, params: unknown[] = []) => (await api.db.dataSource.query(sql, params))[0];

  beforeAll(async () => {
    api = await startTestApi({ SETTINGS_ENCRYPTION_KEY: SETTINGS_KEY.toString('base64') });
    op = await api.operatorToken();
  });
  afterAll(async () => api?.close());

  it('keeps the token-signing key sealed in PostgreSQL, and the tokens it signs are accepted', async () => {
    const row = await raw(`SELECT private_key, public_key FROM system_key WHERE purpose = 'access-token'`);
    expect(row.private_key).toMatch(/^enc:v1:/);
    expect(row.private_key).not.toMatch(PEM);
    // The sealed key is the pair of the stored public key, and opens only as this row's.
    const opened = box.open(row.private_key, systemKeyField('access-token'));
    expect(createPrivateKey(opened).asymmetricKeyType).toBe('ed25519');
    expect(() => box.open(row.private_key, systemKeyField('registration-code'))).toThrow(/cannot be decrypted/);
    expect((await api.request('GET', '/api/auth/me', { token: op })).status).toBe(200);
  });

  it('creates domains with a sealed DKIM key bound to the domain', async () => {
    const created = await api.request('POST', '/api/domains', { token: op, body: { name: 'sealed.test', tenantId: (await raw(`INSERT INTO tenant (name) VALUES ('Sealed') RETURNING id`)).id } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const row = await raw(`SELECT id, dkim_private_key, dkim_public_key FROM domain WHERE name = 'sealed.test'`);
    expect(row.dkim_private_key).toMatch(/^enc:v1:/);
    expect(row.dkim_private_key).not.toMatch(PEM);
    const pem = openKeyAtRest(box, row.dkim_private_key, dkimKeyField(row.id));
    // It is the private half of the public key the DKIM DNS record publishes.
    expect(createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64')).toBe(row.dkim_public_key);
    const dns = await api.request('GET', `/api/domains/${row.id}/dns`, { token: op });
    expect(JSON.stringify(dns.body)).toContain(row.dkim_public_key);
    // A sealed key copied into another domain's row does not open there.
    expect(() => box.open(row.dkim_private_key, dkimKeyField('00000000-0000-4000-8000-000000000000'))).toThrow(/cannot be decrypted/);
  });

  it('seals keys an earlier release stored in clear at start, and signs with them after', async () => {
    // As an earlier release left them: the signing key and a domain's DKIM key as plain PEM.
    const signing = await raw(`SELECT private_key FROM system_key WHERE purpose = 'access-token'`);
    const plainSigning = box.open(signing.private_key, systemKeyField('access-token'));
    await api.db.dataSource.query(`UPDATE system_key SET private_key = $1 WHERE purpose = 'access-token'`, [plainSigning]);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const plainDkim = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const tenant = await raw(`SELECT id FROM tenant WHERE name = 'Sealed'`);
    const old = await raw(
      `INSERT INTO domain (tenant_id, name, unicode_name, dkim_private_key, dkim_public_key) VALUES ($1, 'old.test', 'old.test', $2, $3) RETURNING id`,
      [tenant.id, plainDkim, publicKey.export({ type: 'spki', format: 'der' }).toString('base64')],
    );
    // Until then a reader still opens a plain key (a node started before the API keeps signing).
    expect(openKeyAtRest(box, plainDkim, dkimKeyField(old.id))).toBe(plainDkim);

    await api.app.get(SystemKeyService).onModuleInit();
    const rows = [
      (await raw(`SELECT private_key AS k FROM system_key WHERE purpose = 'access-token'`)).k,
      (await raw(`SELECT dkim_private_key AS k FROM domain WHERE id = $1`, [old.id])).k,
    ];
    for (const k of rows) {
      expect(k).toMatch(/^enc:v1:/);
      expect(k).not.toMatch(PEM);
    }
    expect(box.open(rows[0], systemKeyField('access-token'))).toBe(plainSigning);
    expect(box.open(rows[1], dkimKeyField(old.id))).toBe(plainDkim);
    const [{ n }] = await api.db.dataSource.query(
      `SELECT (SELECT count(*) FROM system_key WHERE private_key NOT LIKE 'enc:v1:%') + (SELECT count(*) FROM domain WHERE dkim_private_key NOT LIKE 'enc:v1:%') AS n`,
    );
    expect(Number(n)).toBe(0);
    // Running again changes nothing; tokens signed with the key before and after are accepted.
    await api.app.get(SystemKeyService).onModuleInit();
    expect((await raw(`SELECT private_key AS k FROM system_key WHERE purpose = 'access-token'`)).k).toBe(rows[0]);
    expect((await api.request('GET', '/api/auth/me', { token: op })).status).toBe(200);
    expect((await api.request('GET', '/api/auth/me', { token: await api.operatorToken('op2') })).status).toBe(200);
  });
});
