/**
 * For a data migration's test: a database of its own with the schema as it stood just before that migration, to be
 * filled with rows as the older code wrote them, then reopened with the migrations the test runs.
 * (@dizi/testing cannot be imported here: it builds on this lib.)
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createDataSource } from '../src/data-source';
import { MIGRATIONS } from '../src/migrations';

type Migration = (typeof MIGRATIONS)[number];

const TEST_PG_ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const c = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export interface SchemaBefore {
  /** The database with every migration before the one named applied; fill it, then call `reopen`. */
  old: DataSource;
  /**
   * Closes `old` and opens the same database for the code under test, knowing every migration, or only those up to
   * and including `through` (to check a migration's outcome before later ones change it).
   */
  reopen(through?: Migration): Promise<DataSource>;
  /** Closes whatever is open and drops the database. */
  drop(): Promise<void>;
}

export async function schemaBefore(migration: Migration): Promise<SchemaBefore> {
  const at = MIGRATIONS.indexOf(migration);
  if (at < 0) throw new Error(`${migration.name} is not in MIGRATIONS`);
  const name = `dizi_test_${randomBytes(6).toString('hex')}`;
  const url = Object.assign(new URL(TEST_PG_ADMIN_URL), { pathname: `/${name}` }).toString();
  await admin(`CREATE DATABASE ${name}`);
  const old = new DataSource({ type: 'postgres', url, migrations: MIGRATIONS.slice(0, at), synchronize: false, logging: ['error'] });
  await old.initialize();
  await old.runMigrations({ transaction: 'each' });
  let current: DataSource = old;
  return {
    old,
    async reopen(through) {
      if (old.isInitialized) await old.destroy();
      const options = createDataSource(url, { poolSize: 2 }).options;
      current = new DataSource(
        (through ? { ...options, migrations: MIGRATIONS.slice(0, MIGRATIONS.indexOf(through) + 1) } : options) as DataSourceOptions,
      );
      await current.initialize();
      return current;
    },
    async drop() {
      if (current.isInitialized) await current.destroy();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A tenant, its domain and one mailbox `<local>@<domain>` (its default folders come with it); returns the mailbox id. */
export async function seedMailbox(db: DataSource, domain: string, local = 'u'): Promise<string> {
  const [row] = await db.query(
    `WITH t AS (INSERT INTO tenant (name) VALUES ($1) RETURNING id),
          d AS (INSERT INTO domain (tenant_id, name, unicode_name) SELECT id, $1, $1 FROM t RETURNING id, tenant_id)
     INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes)
     SELECT tenant_id, id, $2, $2 || '@' || $1, 'x', 1e9 FROM d RETURNING id`,
    [domain, local],
  );
  return row.id as string;
}
