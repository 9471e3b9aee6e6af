/** Builds apps/portal (`next build`) unless a build newer than every source it is made of exists; used by `npm start` and the browser tests. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
export const PORTAL_DIR = __dirname;
export const NEXT_BIN = join(root, 'node_modules/next/dist/bin/next');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.next') || e.name === 'node_modules' || e.name === 'e2e') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function portalBuildIsFresh(): boolean {
  const buildId = join(PORTAL_DIR, '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return false;
  const sources = [PORTAL_DIR, ...['contracts', 'config', 'domain'].map((l) => join(root, 'libs', l, 'src'))].map(newest);
  return statSync(buildId).mtimeMs > Math.max(...sources);
}

/** Held while one process builds: `next build` refuses to run twice in one directory (the e2e files start in parallel). */
const LOCK = join(PORTAL_DIR, '.next-build.lock');

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the build lock, or answers false when a live process holds it (a dead holder's lock is taken over). */
function takeLock(): boolean {
  try {
    writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    const holder = Number(readFileSync(LOCK, 'utf8').trim() || 0);
    if (holder && processAlive(holder)) return false;
    rmSync(LOCK, { force: true });
    return takeLock();
  }
}

function build(): Promise<boolean> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [NEXT_BIN, 'build'], { cwd: PORTAL_DIR, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
    child.on('error', () => done(false));
    child.on('exit', (code) => done(code === 0));
  });
}

/**
 * Resolves false when the build failed (its output went to the terminal). Asynchronous: a build takes a minute or more,
 * and the test worker that waits for it must keep answering its runner meanwhile (a blocked worker times out). One
 * process builds at a time; the others wait for it and use its build.
 */
export async function ensurePortalBuild(): Promise<boolean> {
  for (;;) {
    if (portalBuildIsFresh()) return true;
    if (takeLock()) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    if (portalBuildIsFresh()) return true;
    return await build();
  } finally {
    rmSync(LOCK, { force: true });
  }
}
