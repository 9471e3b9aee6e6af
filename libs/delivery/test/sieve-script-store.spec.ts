/** The SieveScriptStore contract, run on PostgreSQL and on the memory adapter alike. */
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test infrastructure, not a runtime dependency of the delivery lib.
import { createTestDatabase, type TestDatabase } from '@dizi/testing/test-database';
import { MemorySieveScriptStore } from '../src/adapters/memory/memory-sieve-script-store';
import { PgSieveScriptStore } from '../src/adapters/postgres/pg-sieve-script-store';
import {
  SieveScriptActiveError, SieveScriptExistsError, SieveScriptNotFoundError, type SieveOwner, type SieveScriptStore,
} from '../src/ports/sieve-script-store';

let db: TestDatabase;
let pool: Pool;
const ids = { domainA: '', domainB: '', alice: '', bob: '', carol: '' };

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 4 });
  const { rows: [t] } = await pool.query(`INSERT INTO tenant (name) VALUES ('t') RETURNING id`);
  const domain = async (name: string) =>
    (await pool.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, $2, $2) RETURNING id`, [t.id, name])).rows[0].id as string;
  const mailbox = async (local: string, domainId: string, domainName: string) => (await pool.query(
    `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes, used_bytes)
     VALUES ($1, $2, $3, $3 || '@' || $4, 'x', 1000, 0) RETURNING id`, [t.id, domainId, local, domainName])).rows[0].id as string;
  ids.domainA = await domain('a.test');
  ids.domainB = await domain('b.test');
  ids.alice = await mailbox('alice', ids.domainA, 'a.test');
  ids.bob = await mailbox('bob', ids.domainA, 'a.test');
  ids.carol = await mailbox('carol', ids.domainB, 'b.test');
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const adapters: Array<[string, () => SieveScriptStore]> = [
  ['postgres', () => new PgSieveScriptStore(pool)],
  ['memory', () => new MemorySieveScriptStore((id) => (id === ids.carol ? ids.domainB : ids.domainA))],
];

describe.each(adapters)('SieveScriptStore on %s', (kind, make) => {
  let store: SieveScriptStore;
  const alice = (): SieveOwner => ({ level: 'mailbox', mailboxId: ids.alice });

  beforeAll(async () => {
    store = make();
    if (kind === 'postgres') await pool.query(`DELETE FROM sieve_script`);
  });

  it('creates, replaces, lists by name and reads back scripts with their size in octets', async () => {
    await store.put(alice(), 'vacation', 'keep;');
    await store.put(alice(), 'filters', 'discard;');
    const replaced = await store.put(alice(), 'filters', 'fileinto "Ärger";');
    expect(replaced.size).toBe(Buffer.byteLength('fileinto "Ärger";'));
    expect((await store.list(alice())).map((s) => [s.name, s.active])).toEqual([['filters', false], ['vacation', false]]);
    expect((await store.get(alice(), 'filters'))?.content).toBe('fileinto "Ärger";');
    expect(await store.get(alice(), 'nothing')).toBeNull();
    // Another owner sees none of them, and may use the same names.
    expect(await store.list({ level: 'mailbox', mailboxId: ids.bob })).toEqual([]);
    await store.put({ level: 'mailbox', mailboxId: ids.bob }, 'filters', 'keep;');
    expect((await store.get({ level: 'mailbox', mailboxId: ids.bob }, 'filters'))?.content).toBe('keep;');
  });

  it('keeps one active script per owner, and refuses to delete the active one', async () => {
    await store.setActive(alice(), 'filters');
    await store.setActive(alice(), 'vacation');
    expect((await store.list(alice())).filter((s) => s.active).map((s) => s.name)).toEqual(['vacation']);
    await expect(store.delete(alice(), 'vacation')).rejects.toBeInstanceOf(SieveScriptActiveError);
    await expect(store.setActive(alice(), 'missing')).rejects.toBeInstanceOf(SieveScriptNotFoundError);
    // A failed SETACTIVE changes nothing.
    expect((await store.list(alice())).filter((s) => s.active).map((s) => s.name)).toEqual(['vacation']);
    await store.setActive(alice(), null);
    expect((await store.list(alice())).some((s) => s.active)).toBe(false);
    await store.delete(alice(), 'vacation');
    await expect(store.delete(alice(), 'vacation')).rejects.toBeInstanceOf(SieveScriptNotFoundError);
  });

  it('renames, refusing a name in use', async () => {
    await store.put(alice(), 'one', 'keep;');
    await store.put(alice(), 'two', 'keep;');
    await expect(store.rename(alice(), 'one', 'two')).rejects.toBeInstanceOf(SieveScriptExistsError);
    await expect(store.rename(alice(), 'none', 'three')).rejects.toBeInstanceOf(SieveScriptNotFoundError);
    await store.rename(alice(), 'one', 'three');
    expect((await store.list(alice())).map((s) => s.name)).toEqual(['filters', 'three', 'two']);
  });

  it('gives delivery the active scripts in order global, domain, mailbox, with final only where allowed', async () => {
    await store.put({ level: 'global' }, 'ops', 'keep;', { final: true });
    await store.put({ level: 'global' }, 'spare', 'discard;');
    await store.setActive({ level: 'global' }, 'ops');
    await store.put({ level: 'domain', domainId: ids.domainA }, 'a-rules', 'keep;');
    await store.setActive({ level: 'domain', domainId: ids.domainA }, 'a-rules');
    await store.setActive(alice(), 'two');
    // A mailbox script is never final, whatever was asked.
    expect((await store.put(alice(), 'two', 'stop;', { final: true })).final).toBe(false);
    // Replacing content without saying keeps the final flag.
    expect((await store.put({ level: 'global' }, 'ops', 'keep; # v2')).final).toBe(true);

    const active = await store.activeScripts([ids.alice, ids.carol]);
    expect(active.get(ids.alice)!.map((s) => [s.level, s.name, s.final])).toEqual([['global', 'ops', true], ['domain', 'a-rules', false], ['mailbox', 'two', false]]);
    expect(active.get(ids.alice)![2].content).toBe('stop;');
    expect(active.get(ids.carol)!.map((s) => s.name)).toEqual(['ops']);
    expect(active.get(ids.alice)!.map((s) => s.ownerId)).toEqual([null, ids.domainA, ids.alice]);
    // Every script of an owner, active or not (for include).
    expect(await store.contents({ level: 'global' })).toEqual(new Map([['ops', 'keep; # v2'], ['spare', 'discard;']]));
    await store.setActive({ level: 'global' }, null);
    expect((await store.activeScripts([ids.carol])).get(ids.carol)).toBeUndefined();
  });
});
