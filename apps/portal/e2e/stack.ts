/**
 * The whole console stack for the browser tests, all real: a local OpenID Connect issuer (oidc-provider) with
 * Keycloak's claims, the API process on a fresh PostgreSQL database (demo tenant seeded), the built portal
 * (`next start`), and Debian's Chromium through playwright-core.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { createTestDatabase, TEST_REDIS_URL, TestDatabase } from '@dizi/testing/test-database';
import { ensurePortalBuild, NEXT_BIN } from '../portal-build';

export const ROOT = resolve(__dirname, '../../..');
const PORTAL_DIR = resolve(__dirname, '..');
export const DEMO_PASSWORD = 'demo-pass-123';
const API_AUDIENCE = 'dizi-api';
const API_RESOURCE = 'https://api.dizi.test';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The client users sign in through: the API accepts tokens issued to it (OIDC_CLIENT_ID) and reads its roles. */
const OIDC_CLIENT = 'dizi';

/**
 * Claims the issuer puts into each account's access token, as Keycloak does: Dizi's roles are client roles of
 * Dizi's client; a realm role named like ours (nobody's) must not count.
 */
export const oidcAccounts: Record<string, Record<string, unknown>> = {
  olga: { realm_access: { roles: ['offline_access'] }, resource_access: { [OIDC_CLIENT]: { roles: ['dizi-operator'] } }, preferred_username: 'olga' },
  nobody: { realm_access: { roles: ['offline_access', 'dizi-operator'] }, preferred_username: 'nobody' },
};

export interface Stack {
  apiUrl: string;
  portalUrl: string;
  issuerUrl: string;
  db: TestDatabase;
  browser: Browser;
  /** Sends a request to the API as the demo operator. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test replies are read loosely, like the API harness's
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  operatorToken: string;
  /** Redis key prefix of this stack's API (a mail node joining it uses the same). */
  redisPrefix: string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startIssuer(port: number, portalUrl: string): Promise<Server> {
  const { default: Provider } = await import('oidc-provider');
  const url = `http://127.0.0.1:${port}`;
  const provider = new Provider(url, {
    clients: [{ client_id: OIDC_CLIENT, token_endpoint_auth_method: 'none', redirect_uris: [`${portalUrl}/auth/oidc/callback`], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub, preferred_username: sub }) }),
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api', audience: API_AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 600 }),
      },
    },
    // A first-party client: consent is implied, as Keycloak does for its own clients.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- oidc-provider ships no types
    loadExistingGrant: async (ctx: any) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile');
      grant.addResourceScope(API_RESOURCE, 'api');
      await grant.save();
      return grant;
    },
    extraTokenClaims: (_ctx: unknown, token: { accountId?: string }) => (token.accountId ? oidcAccounts[token.accountId] : undefined),
    pkce: { required: () => true },
  });
  provider.on('server_error', (_ctx: unknown, e: Error) => console.error('oidc-provider:', e));
  const server = createServer(provider.callback() as (req: IncomingMessage, res: ServerResponse) => void);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

function waitForUrl(url: string, child: ChildProcess, name: string, timeoutMs = 90_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolveWait, reject) => {
    const tick = async () => {
      if (child.exitCode !== null) return reject(new Error(`${name} exited with ${child.exitCode}`));
      try {
        const r = await fetch(url);
        if (r.status < 500) return resolveWait();
      } catch {
        /* not listening yet */
      }
      if (Date.now() - started > timeoutMs) return reject(new Error(`${name} did not answer at ${url}`));
      setTimeout(tick, 200);
    };
    void tick();
  });
}

/** Stops a child and everything it started (next start leaves a next-server child behind otherwise). */
export function stopGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      r();
    }
    setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000).unref();
  });
}

/** `apiEnv`: more of the API's environment (e.g. DNS_SERVERS pointing at a test resolver). */
export async function startStack(portalEnv: Record<string, string> = {}, apiEnv: Record<string, string> = {}): Promise<Stack> {
  if (!(await ensurePortalBuild())) throw new Error('next build failed');
  const [apiPort, portalPort, issuerPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const portalUrl = `http://127.0.0.1:${portalPort}`;
  const issuerUrl = `http://127.0.0.1:${issuerPort}`;
  const issuer = await startIssuer(issuerPort, portalUrl);
  const db = await createTestDatabase();
  const children: ChildProcess[] = [];
  const quiet = (c: ChildProcess, name: string) => c.stderr?.on('data', (d: Buffer) => process.env.E2E_VERBOSE && process.stderr.write(`[${name}] ${d}`));
  try {
    const api = spawn(process.execPath, ['-r', join(ROOT, 'tools/register.cjs'), join(ROOT, 'apps/api/src/main.ts')], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: `dizi-test:${db.name}:`,
        API_PORT: String(apiPort),
        LOG_LEVEL: 'warn',
        DIZI_DEMO: 'true',
        DIZI_DEMO_PASSWORD: DEMO_PASSWORD,
        LOGIN_FAILURE_DELAY_MS: '0',
        API_RATE_LIMIT_PER_MINUTE: '1000000',
        OIDC_ISSUER: issuerUrl,
        OIDC_AUDIENCE: API_AUDIENCE,
        OIDC_CLIENT_ID: OIDC_CLIENT,
        ...apiEnv,
      },
    });
    children.push(api);
    quiet(api, 'api');
    const portal = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(portalPort), '-H', '127.0.0.1'], {
      cwd: PORTAL_DIR,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        PORTAL_API_URL: apiUrl,
        PORTAL_SESSION_SECRET: Buffer.alloc(32, 7).toString('base64'),
        OIDC_ISSUER: issuerUrl,
        PORTAL_OIDC_SCOPE: 'openid profile api',
        PORTAL_OIDC_RESOURCE: API_RESOURCE,
        ...portalEnv,
      },
    });
    children.push(portal);
    quiet(portal, 'portal');
    await Promise.all([waitForUrl(`${apiUrl}/api/health`, api, 'api'), waitForUrl(`${portalUrl}/sign-in`, portal, 'portal')]);
  } catch (e) {
    await Promise.all(children.map(stopGroup));
    await db.drop();
    issuer.close();
    throw e;
  }

  const request = async <T>(method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const op = await request<{ accessToken: string }>('POST', '/api/auth/operator/login', { username: 'operator', password: DEMO_PASSWORD });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  return {
    apiUrl,
    portalUrl,
    issuerUrl,
    db,
    browser,
    operatorToken: op.body.accessToken,
    redisPrefix: `dizi-test:${db.name}:`,
    api: (method, path, body, token) => request(method, path, body, token ?? op.body.accessToken),
    async close() {
      await browser.close().catch(() => undefined);
      await Promise.all(children.map(stopGroup));
      await new Promise((r) => issuer.close(r));
      await db.drop();
    },
  };
}

/** Signs in on the portal's own sign-in page with a password. */
export async function passwordSignIn(page: Page, portalUrl: string, username: string, password: string, as: 'mailbox' | 'operator' = 'mailbox'): Promise<void> {
  await page.goto(`${portalUrl}/sign-in`);
  if (as === 'operator') await page.getByText(/^(Operator|运营人员)$/).click();
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/sign-in') && !u.pathname.startsWith('/auth/')), page.locator('form[action="/auth/sign-in"] button[type=submit]').click()]);
}
