/**
 * JMAP over HTTP (RFC 8620 §2, §3, §6.2, §7.3): /.well-known/jmap, /jmap/session, /jmap/api, /jmap/download,
 * /jmap/upload, /jmap/eventsource. Plain handlers ahead of Nest's routes and body parsers: JMAP reads its own body
 * (a bad one is a JMAP problem, not an API error) and answers problem+json in the RFC's types.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlobTooLargeError } from '@dizi/mail-store/ports/blob-store';
import { JmapRequestError } from '@dizi/jmap/errors';
import { isUploadBlobId, uploadBlobIdOf } from '@dizi/jmap/uploads';
import { parseEventSourceQuery, StateStream } from '@dizi/jmap/event-source';
import { readBlob } from '@dizi/jmap/blob-download';
import type { JmapAccount } from '@dizi/jmap/method';
import { buildSession } from '@dizi/jmap/session';
import type { JmapService } from './jmap.service';

type Request = IncomingMessage & { ip?: string };
type Next = (err?: unknown) => void;

const UPLOAD = /^\/jmap\/upload\/([^/]+)\/?$/;
const DOWNLOAD = /^\/jmap\/download\/([^/]+)\/([^/]+)\/([^/]*)$/;

export function jmapRoutes(jmap: JmapService) {
  return (req: Request, res: ServerResponse, next: Next): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path !== '/.well-known/jmap' && path !== '/jmap' && !path.startsWith('/jmap/')) return next();
    void route(jmap, req, res, url).catch((err) => {
      jmap.logger.error({ err, path }, 'JMAP request failed');
      if (!res.headersSent) problem(res, 500, 'about:blank', 'the server failed; try again later');
      else res.end();
    });
  };
}

async function route(jmap: JmapService, req: Request, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  if (path === '/.well-known/jmap') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET');
    res.writeHead(307, { location: '/jmap/session', 'cache-control': 'no-store' }).end();
    return;
  }
  const auth = await jmap.authenticate(req.headers, req.ip ?? req.socket.remoteAddress ?? 'unknown');
  if (!auth.ok) {
    drain(req);
    const headers = auth.status === 401 ? { 'www-authenticate': 'Bearer, Basic realm="Dizi JMAP", charset="UTF-8"' } : undefined;
    return problem(res, auth.status, 'about:blank', auth.detail, headers);
  }
  const account = auth.account;
  if (path === '/jmap/session') {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    return json(res, 200, buildSession(account, jmap.limits, { base: jmap.baseUrl(req.headers.host) }));
  }
  if (path === '/jmap/api') {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    return api(jmap, account, req, res);
  }
  if (path === '/jmap/eventsource') {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    return eventSource(jmap, account, req, res, url);
  }
  const download = DOWNLOAD.exec(path);
  if (download) {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    const [accountId, blobId, name] = download.slice(1).map(decodeURIComponent);
    if (accountId !== account.accountId) return problem(res, 404, 'about:blank', `no account ${accountId} for this user`);
    const uploads = await jmap.uploads();
    const uploaded = isUploadBlobId(blobId) ? await uploads.find(account.accountId, blobId) : null;
    const bytes = uploaded ? await uploads.read(uploaded) : await readBlob((await jmap.mail()).store, account, blobId);
    if (!bytes) return problem(res, 404, 'about:blank', `no blob ${blobId}`);
    const type = url.searchParams.get('type') || 'application/octet-stream';
    res.writeHead(200, {
      'content-type': /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type : 'application/octet-stream',
      'content-length': bytes.length,
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name || 'blob')}`,
      'cache-control': 'private, immutable, max-age=31536000',
    });
    res.end(bytes);
    return;
  }
  const upload = UPLOAD.exec(path);
  if (upload) {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    return uploadBlob(jmap, account, decodeURIComponent(upload[1]), req, res);
  }
  drain(req);
  problem(res, 404, 'about:blank', `no JMAP resource at ${path}`);
}

/** RFC 8620 §6.1: the body, streamed into the blob store, answered {accountId, blobId, type, size}. */
async function uploadBlob(jmap: JmapService, account: JmapAccount, accountId: string, req: Request, res: ServerResponse): Promise<void> {
  if (accountId !== account.accountId) {
    drain(req);
    return problem(res, 404, 'about:blank', `no account ${accountId} for this user`);
  }
  const max = jmap.limits.maxSizeUpload;
  const tooLarge = () => problem(res, 413, 'urn:ietf:params:jmap:error:limit', `the upload is larger than ${max} bytes (maxSizeUpload)`, undefined, { limit: 'maxSizeUpload' });
  if (Number(req.headers['content-length'] ?? 0) > max) {
    drain(req);
    return tooLarge();
  }
  const running = jmap.uploading.get(account.accountId) ?? 0;
  if (running >= jmap.limits.maxConcurrentUpload) {
    drain(req);
    return problem(res, 429, 'urn:ietf:params:jmap:error:limit', `at most ${jmap.limits.maxConcurrentUpload} uploads at once (maxConcurrentUpload)`, undefined, { limit: 'maxConcurrentUpload' });
  }
  jmap.uploading.set(account.accountId, running + 1);
  try {
    const declared = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const type = /^[\w.+-]+\/[\w.+-]+$/.test(declared) ? declared : 'application/octet-stream';
    const mail = await jmap.mail();
    let blob;
    try {
      blob = await mail.store.putBlob(req, { maxBytes: max });
    } catch (err) {
      if (!(err instanceof BlobTooLargeError)) throw err;
      drain(req);
      return tooLarge();
    }
    const blobId = uploadBlobIdOf(blob.hash);
    await (await jmap.uploads()).remember(account.accountId, { blobId, hash: blob.hash, size: blob.size, type });
    json(res, 201, { accountId: account.accountId, blobId, type, size: blob.size });
  } finally {
    const left = (jmap.uploading.get(account.accountId) ?? 1) - 1;
    if (left > 0) jmap.uploading.set(account.accountId, left);
    else jmap.uploading.delete(account.accountId);
  }
}

async function api(jmap: JmapService, account: JmapAccount, req: Request, res: ServerResponse): Promise<void> {
  const max = jmap.limits.maxSizeRequest;
  const tooLarge = new JmapRequestError('limit', `the request is larger than ${max} bytes (maxSizeRequest)`, 400, 'maxSizeRequest');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    drain(req);
    return problem(res, 400, ...problemOf(tooLarge));
  }
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    drain(req);
    return problem(res, 400, ...problemOf(new JmapRequestError('notRequest', 'send the request as application/json')));
  }
  const body = await readBody(req, max);
  if (!body) return problem(res, 400, ...problemOf(tooLarge));
  try {
    json(res, 200, await (await jmap.api()).handle(account, body));
  } catch (err) {
    if (!(err instanceof JmapRequestError)) throw err;
    problem(res, err.status, ...problemOf(err));
  }
}

function problemOf(err: JmapRequestError): [string, string, Record<string, string>?, Record<string, unknown>?] {
  return [`urn:ietf:params:jmap:error:${err.type}`, err.detail, undefined, err.limit ? { limit: err.limit } : undefined];
}

async function eventSource(jmap: JmapService, account: JmapAccount, req: Request, res: ServerResponse, url: URL): Promise<void> {
  const options = parseEventSourceQuery(url.searchParams);
  if (typeof options === 'string') return problem(res, 400, 'about:blank', options);
  const mail = await jmap.mail();
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.flushHeaders();
  const stream = new StateStream(mail.store, mail.notifier, account, {
    write: (chunk) => res.write(chunk),
    end: () => res.end(),
  }, options, (err) => jmap.logger.warn({ err }, 'JMAP push failed'));
  req.on('close', () => void stream.close());
  await stream.start();
  // A comment line opens the stream for clients that wait for the first bytes.
  res.write(': dizi jmap push\n\n');
}

/** The body, or null once it grows past `max` (the rest is read and dropped). */
async function readBody(req: Request, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) over = true;
    if (!over) chunks.push(chunk);
  }
  return over ? null : Buffer.concat(chunks);
}

function drain(req: Request): void {
  req.resume();
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function problem(res: ServerResponse, status: number, type: string, detail: string, headers?: Record<string, string>, extra?: Record<string, unknown>): void {
  const text = JSON.stringify({ type, status, detail, ...extra });
  res.writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  problem(res, 405, 'about:blank', `use ${allow}`, { allow });
}
