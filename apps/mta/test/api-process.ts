/** The real API in its own process on a test node's database and Redis, for wire tests that go through both. */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestNode } from './harness';

const ROOT = resolve(__dirname, '../../..');

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });

export interface ApiProcess {
  url: string;
  request(method: string, path: string, o?: { token?: string; body?: unknown; csv?: string }): Promise<{ status: number; body: any }>;
  /** Signs in and returns the access token: a mailbox by address, or a local operator account (`operator: true`). */
  token(username: string, password: string, operator?: boolean): Promise<string>;
  close(): Promise<void>;
}

export async function startApiProcess(node: TestNode): Promise<ApiProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'dizi-api-wire-'));
  const api: ChildProcess = spawn(process.execPath, ['-r', resolve(ROOT, 'tools/register.cjs'), resolve(ROOT, 'apps/api/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: node.db.url,
      REDIS_URL: node.ctx.config.REDIS_URL,
      REDIS_PREFIX: node.redisPrefix,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      DIZI_DEMO: 'false',
      DIZI_DATA_DIR: dataDir,
      // The node's blobs, for what the API reads of messages (JMAP, quarantine previews).
      ...(node.ctx.config.BLOB_DIR ? { BLOB_DIR: node.ctx.config.BLOB_DIR } : {}),
      LOG_LEVEL: 'warn',
      LOGIN_FAILURE_DELAY_MS: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 600 || api.exitCode !== null) throw new Error('the API did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const request: ApiProcess['request'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.csv !== undefined) headers['content-type'] = 'text/csv';
    const res = await fetch(`${url}${path}`, { method, headers, body: o.csv ?? (o.body === undefined ? undefined : JSON.stringify(o.body)) });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  return {
    url,
    request,
    async token(username, password, operator = false) {
      const r = await request('POST', operator ? '/api/auth/operator/login' : '/api/auth/login', { body: { username, password } });
      if (r.status !== 200) throw new Error(`sign-in of ${username}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.accessToken as string;
    },
    async close() {
      api.kill('SIGTERM');
      await new Promise((r) => (api.exitCode !== null ? r(null) : api.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
