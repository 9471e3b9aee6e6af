/**
 * Request bodies as an attacker or a careless client sends them: compressed bombs before sign-in,
 * media types a route does not take, encodings and charsets we do not read, broken compression.
 * Each answers its 4xx without the API reading (or growing by) the body; and every response
 * carries the security headers.
 */
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

interface RawReply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A request with exactly these headers and bytes (fetch would refuse some of them). */
function send(url: string, method: string, path: string, headers: Record<string, string>, data: Buffer | string = ''): Promise<RawReply> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, method, headers: { ...headers, 'content-length': String(Buffer.byteLength(data)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('request bodies', () => {
  let api: TestApi;
  let admin: string;
  /** 50 MB of text that gzip shrinks to ~50 KB. */
  const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 'a'));

  beforeAll(async () => {
    api = await startTestApi({ API_IMPORT_BODY_MAX_BYTES: '65536' });
    await seedTenant(api.db.dataSource, 'Bodies', ['bodies.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
    admin = await api.login('boss@bodies.test', TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  it('refuses a gzip text bomb to the sign-in route with 415 without inflating it', async () => {
    expect(bomb.length).toBeLessThan(100 * 1024);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => send(api.url, 'POST', '/api/auth/login', { 'content-type': 'text/plain', 'content-encoding': 'gzip' }, bomb)),
    );
    const grown = process.memoryUsage().rss - before;
    expect(results.map((r) => r.status)).toEqual([415, 415, 415, 415]);
    expect(JSON.parse(results[0].body).error).toBe('unsupported_media_type');
    // Before: each request inflated 50 MB into a string (the report saw +70 MB for one).
    expect(grown).toBeLessThan(40 * 1024 * 1024);
  });

  it('answers a JSON bomb with 413 once the inflated body passes the JSON limit', async () => {
    const res = await send(api.url, 'POST', '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, bomb);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ statusCode: 413, error: 'payload_too_large' });
  });

  it('answers an unknown content encoding or charset with 415 and broken gzip with 400', async () => {
    const json = JSON.stringify({ username: 'boss@bodies.test', password: TEST_PASSWORD });
    const unknownEncoding = await send(api.url, 'POST', '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': 'compress' }, json);
    expect(unknownEncoding.status).toBe(415);
    const unknownCharset = await send(api.url, 'POST', '/api/auth/login', { 'content-type': 'application/json; charset=klingon' }, json);
    expect(unknownCharset.status).toBe(415);
    const brokenGzip = await send(api.url, 'POST', '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, Buffer.from('not gzip at all'));
    expect(brokenGzip.status).toBe(400);
    const shortBody = await send(api.url, 'POST', '/api/auth/login', { 'content-type': 'application/json' }, '{"username":');
    expect(shortBody.status).toBe(400);
  });

  it('takes CSV only on the import route, only after sign-in, and caps it after decompression', async () => {
    const path = '/api/domains/bodies.test/mailboxes/import';
    // Signed out: 401 before anything reads the body.
    expect((await send(api.url, 'POST', path, { 'content-type': 'text/csv', 'content-encoding': 'gzip' }, bomb)).status).toBe(401);
    // Signed in, over API_IMPORT_BODY_MAX_BYTES once inflated: 413, nothing imported.
    const big = await send(api.url, 'POST', path, { 'content-type': 'text/csv', 'content-encoding': 'gzip', authorization: `Bearer ${admin}` }, bomb);
    expect(big.status).toBe(413);
    // A JSON route does not take CSV at all.
    const csvToJson = await send(api.url, 'POST', '/api/mailboxes', { 'content-type': 'text/csv', authorization: `Bearer ${admin}` }, 'a@bodies.test,,,password123');
    expect(csvToJson.status).toBe(415);
    // And the import route does not take JSON.
    const jsonToCsv = await send(api.url, 'POST', path, { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, '{}');
    expect(jsonToCsv.status).toBe(415);
    // A small gzip CSV still imports.
    const ok = await send(api.url, 'POST', path, { 'content-type': 'text/csv', 'content-encoding': 'gzip', authorization: `Bearer ${admin}` }, gzipSync('new@bodies.test,New,1M,password-123\n'));
    expect(ok.status).toBe(202);
    expect(await waitForImport(api, JSON.parse(ok.body).jobId, admin)).toBe(1);
    expect((await api.db.dataSource.query(`SELECT count(*)::int AS n FROM mailbox WHERE address = 'new@bodies.test'`))[0].n).toBe(1);
  });

  it('sends security headers on API responses, errors included', async () => {
    for (const res of [await api.request('GET', '/api/health'), await api.request('GET', '/api/mailboxes'), await api.request('GET', '/api/auth/me', { token: admin })]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    }
  });
});

/** Waits for an import job to finish; returns how many mailboxes it created. */
async function waitForImport(api: TestApi, jobId: string, token: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const job = await api.request('GET', `/api/imports/${jobId}`, { token });
    if (job.body.status !== 'running') return job.body.created;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('import did not finish');
}
