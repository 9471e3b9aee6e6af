/**
 * `npm start`: the whole system on one machine. Uses DATABASE_URL / REDIS_URL when given, otherwise
 * an embedded PostgreSQL under .dizi/ (kept between runs) and the local Redis. Starts every app
 * as its own process and stops them together.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { loadApiConfig } from '@dizi/config/api.config';
import { startEmbeddedPostgres } from '@dizi/db/embedded-postgres';

const root = resolve(__dirname, '..');
const children: ChildProcess[] = [];
let stopping = false;

async function main(): Promise<void> {
  const config = loadApiConfig();
  const env: NodeJS.ProcessEnv = { ...process.env };
  let stopDatabase: (() => Promise<void>) | undefined;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await stopDatabase?.().catch(() => undefined);
    process.exit(code);
  };
  // Handlers first: a stop while the database is still starting must not orphan it.
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  if (!config.DATABASE_URL) {
    const dataDir = resolve(root, config.DIZI_DATA_DIR);
    console.log(`No DATABASE_URL: starting embedded PostgreSQL in ${dataDir}/pg on 127.0.0.1:${config.EMBEDDED_PG_PORT}`);
    const db = await startEmbeddedPostgres(dataDir, config.EMBEDDED_PG_PORT);
    env.DATABASE_URL = db.url;
    stopDatabase = db.stop;
    if (stopping) return void (await db.stop());
  }

  const run = (name: string, entry: string) => {
    const child = spawn(process.execPath, ['-r', resolve(root, 'tools/register.cjs'), resolve(root, entry)], { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`${name} exited (${signal ?? code}); stopping everything`);
        void stop(code || 1);
      }
    });
    children.push(child);
  };
  run('api', 'apps/api/src/main.ts');
  run('mta', 'apps/mta/src/main.ts');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
