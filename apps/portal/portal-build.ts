/** Builds apps/portal (`next build`) unless a build newer than every source it is made of exists; used by `npm start` and the browser tests. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
export const PORTAL_DIR = __dirname;
export const NEXT_BIN = join(root, 'node_modules/next/dist/bin/next');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '.next' || e.name === 'node_modules' || e.name === 'e2e') continue;
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

/**
 * Resolves false when the build failed (its output went to the terminal). Asynchronous: a build takes a minute or more,
 * and the test worker that waits for it must keep answering its runner meanwhile (a blocked worker times out).
 */
export async function ensurePortalBuild(): Promise<boolean> {
  if (portalBuildIsFresh()) return true;
  return new Promise((done) => {
    const build = spawn(process.execPath, [NEXT_BIN, 'build'], { cwd: PORTAL_DIR, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
    build.on('error', () => done(false));
    build.on('exit', (code) => done(code === 0));
  });
}
