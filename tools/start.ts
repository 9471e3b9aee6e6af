/**
 * `npm start`: the whole system on one machine. Uses DATABASE_URL / REDIS_URL when given, otherwise
 * an embedded PostgreSQL under .dizi/ (kept between runs) and the local Redis. Starts every app
 * as its own process and stops them together.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { loadApiConfig } from '@dizi/config/api.config';
import { startEmbeddedPostgres } from '@dizi/db/embedded-postgres';
import { loadPortalConfig } from '@dizi/config/portal.config';
import { ensurePortalBuild, NEXT_BIN, PORTAL_DIR } from '../apps/portal/portal-build';

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
    for (const c of children) {
      if (c.exitCode !== null) continue;
      // The portal runs in its own process group (see below): signal the group, not just `next start`.
      if (c.spawnargs.includes(NEXT_BIN) && c.pid) process.kill(-c.pid, 'SIGTERM');
      else c.kill('SIGTERM');
    }
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
  // Billing on :3002 (BILLING_PORT): Stripe webhooks and the metering/dunning jobs; without STRIPE_SECRET_KEY manual billing only.
  run('billing', 'apps/billing/src/main.ts');

  // The portal: Next's production server (reliable, fast pages), built first when its sources changed.
  const portal = loadPortalConfig(env);
  const portalEnv = {
    ...env,
    NEXT_TELEMETRY_DISABLED: '1',
    PORTAL_API_URL: env.PORTAL_API_URL ?? `http://127.0.0.1:${config.API_PORT}`,
    // The portal runs in apps/portal: its session key goes to the same .dizi/keys as the other processes' secrets.
    DIZI_DATA_DIR: resolve(root, config.DIZI_DATA_DIR),
  };
  console.log('Building the portal when its sources changed (next build, a minute or more on a busy machine)…');
  if (!(await ensurePortalBuild())) {
    console.error('portal build failed; stopping everything');
    return void stop(1);
  }
  if (stopping) return;
  // Own process group: `next start` leaves a next-server child that must stop with it.
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(portal.PORTAL_PORT), '-H', portal.PORTAL_HOST], { cwd: PORTAL_DIR, env: portalEnv, stdio: 'inherit', detached: true });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`portal exited (${signal ?? code}); stopping everything`);
      void stop(code || 1);
    }
  });
  children.push(child);
  const url = portal.PORTAL_PUBLIC_URL ?? `http://${portal.PORTAL_HOST}:${portal.PORTAL_PORT}`;
  console.log(
    `\nPortal / 管理控制台: ${url}\n` +
      `  operator console (/ops):  operator          password: ${env.DIZI_DEMO_PASSWORD ? '$DIZI_DEMO_PASSWORD' : 'as printed by the API above'}\n` +
      `  domain admin (/admin):    admin@demo.test   password: ${env.DIZI_DEMO_PASSWORD ? '$DIZI_DEMO_PASSWORD' : 'as printed by the API above'}\n` +
      (portal.OIDC_ISSUER ? `  single sign-on through ${portal.OIDC_ISSUER}\n` : '') +
      `Billing / 计费: http://127.0.0.1:${env.BILLING_PORT ?? 3002} (Stripe webhooks at /billing/webhooks/stripe; ${env.STRIPE_SECRET_KEY ? 'Stripe enabled' : 'no STRIPE_SECRET_KEY: manual billing only'})\n`,
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
