/** Starts the real API on a free port against a fresh database on the machine's PostgreSQL and Redis. */
import Redis from 'ioredis';
import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { hashPassword } from '@dizi/auth/password-hash';
import { loadApiConfig } from '@dizi/config/api.config';
import { createTestDatabase, TEST_REDIS_URL, TestDatabase } from '@dizi/testing/test-database';
import { createApiApp } from '../src/bootstrap';
import { createRootLogger } from '../src/common/pino-logger';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  token?: string;
  apiKey?: string;
  body?: unknown;
  /** Raw body (e.g. CSV) sent with its own content type. */
  raw?: { contentType: string; data: string | Buffer };
  headers?: Record<string, string>;
}

export interface TestApi {
  url: string;
  app: INestApplication;
  openApi: OpenAPIObject;
  db: TestDatabase;
  redis: Redis;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<Reply<T>>;
  /** Creates a local operator account and returns its access token. */
  operatorToken(username?: string): Promise<string>;
  /** Signs a mailbox in and returns its access token. */
  login(username: string, password: string): Promise<string>;
  close(): Promise<void>;
}

export const TEST_PASSWORD = 'Test-password-1';

export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  const prefix = `dizi-test:${db.name}:`;
  const config = loadApiConfig({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    LOGIN_FAILURE_DELAY_MS: '0',
    DIZI_DEMO: 'false',
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    ...env,
  });
  const { app, openApi } = await createApiApp(config, db.dataSource, createRootLogger('silent'));
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const redis = new Redis(TEST_REDIS_URL);

  const request = async <T>(method: string, path: string, o: RequestOptions = {}): Promise<Reply<T>> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.apiKey) headers['x-api-key'] = o.apiKey;
    let body: string | Buffer | undefined;
    if (o.raw) {
      headers['content-type'] = o.raw.contentType;
      body = o.raw.data;
    } else if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    const res = await fetch(`${url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, headers: res.headers };
  };

  const login = async (username: string, password: string) => {
    const r = await request<{ accessToken: string }>('POST', '/api/auth/login', { body: { username, password } });
    if (r.status !== 200) throw new Error(`login ${username} failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.accessToken;
  };

  const operatorToken = async (username = 'op') => {
    await db.dataSource.query(`INSERT INTO operator_account (username, password_hash) VALUES ($1, $2) ON CONFLICT (username) DO NOTHING`, [
      username,
      await hashPassword(TEST_PASSWORD),
    ]);
    const r = await request<{ accessToken: string }>('POST', '/api/auth/operator/login', { body: { username, password: TEST_PASSWORD } });
    if (r.status !== 200) throw new Error(`operator login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.accessToken;
  };

  return {
    url,
    app,
    openApi,
    db,
    redis,
    request,
    login,
    operatorToken,
    async close() {
      await app.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await db.drop();
    },
  };
}
