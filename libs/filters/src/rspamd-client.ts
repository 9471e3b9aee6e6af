/**
 * Rspamd's normal worker, HTTP protocol v2 (https://rspamd.com/doc/developers/protocol.html): `POST /checkv2` with the
 * message as the body and the envelope in headers; the answer is JSON with the score, rspamd's own action and the
 * symbols that hit. `POST /learnspam` and `/learnham` (controller worker) teach its Bayes classifier.
 */
import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { ScannerError } from './daemon-connection';
import { scannerConnectOptions } from './scanner-address';

export interface RspamdVerdict {
  score: number;
  /** rspamd's own required score and action (our thresholds are the settings', not these). */
  required: number;
  action: string;
  /** Names of the symbols that hit, strongest first. */
  symbols: string[];
  /** Each symbol's score. */
  scores: Record<string, number>;
}

export interface RspamdEnvelope {
  ip?: string;
  helo?: string;
  from?: string;
  rcpt?: string[];
}

/** Longest answer read: a verdict is a few KB, even with every symbol's options. */
const MAX_ANSWER = 1024 * 1024;

function post(address: string, path: string, source: Readable, size: number, headers: Record<string, string | string[]>, timeoutMs: number): Promise<string> {
  const target = scannerConnectOptions(address);
  return new Promise((resolve, reject) => {
    const req = request({
      method: 'POST', path,
      ...('path' in target ? { socketPath: target.path } : { host: target.host, port: target.port }),
      headers: { ...headers, 'content-length': String(size) },
      timeout: timeoutMs,
    });
    const timer = setTimeout(() => req.destroy(new ScannerError(`rspamd did not answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    req.on('timeout', () => req.destroy(new ScannerError(`rspamd did not answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      clearTimeout(timer);
      source.destroy();
      reject(err instanceof ScannerError ? err : new ScannerError(`rspamd: ${err.message}`));
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (body.length > MAX_ANSWER) req.destroy(new ScannerError('rspamd: answer too long'));
      });
      res.on('end', () => {
        clearTimeout(timer);
        if (res.statusCode !== 200) return reject(new ScannerError(`rspamd: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
        resolve(body);
      });
      res.on('error', (err) => reject(new ScannerError(`rspamd: ${err.message}`)));
    });
    source.on('error', (err) => req.destroy(err));
    source.pipe(req);
  });
}

const headerSafe = (v: string) => v.replace(/[^\x21-\x7e]/g, '');

/** Scores `source`, which holds exactly `size` bytes. */
export async function rspamdCheck(address: string, source: Readable, size: number, o: { timeoutMs: number; envelope?: RspamdEnvelope }): Promise<RspamdVerdict> {
  const e = o.envelope ?? {};
  const headers: Record<string, string | string[]> = {};
  if (e.ip) headers.IP = headerSafe(e.ip);
  if (e.helo) headers.Helo = headerSafe(e.helo);
  if (e.from !== undefined) headers.From = headerSafe(e.from) || '<>';
  if (e.rcpt?.length) headers.Rcpt = e.rcpt.map(headerSafe);
  const body = await post(address, '/checkv2', source, size, headers, o.timeoutMs);
  let json: { score?: unknown; required_score?: unknown; action?: unknown; symbols?: Record<string, { name?: string; score?: number }> };
  try {
    json = JSON.parse(body);
  } catch {
    throw new ScannerError('rspamd: the answer is not JSON');
  }
  if (typeof json.score !== 'number' || !Number.isFinite(json.score)) throw new ScannerError('rspamd: the answer has no score');
  const hits = Object.values(json.symbols ?? {})
    .filter((s) => typeof s?.name === 'string')
    .sort((a, b) => Math.abs(b.score ?? 0) - Math.abs(a.score ?? 0));
  const scores = Object.fromEntries(hits.map((s) => [s.name as string, Number(s.score ?? 0)]));
  return { score: json.score, required: Number(json.required_score ?? 0), action: String(json.action ?? ''), symbols: hits.map((s) => s.name as string), scores };
}

/** Teaches rspamd's Bayes classifier that the message is spam or ham (controller worker, default port 11334). */
export async function rspamdLearn(address: string, source: Readable, size: number, as: 'spam' | 'ham', o: { timeoutMs: number; password?: string }): Promise<void> {
  const headers: Record<string, string> = o.password ? { Password: headerSafe(o.password) } : {};
  await post(address, as === 'spam' ? '/learnspam' : '/learnham', source, size, headers, o.timeoutMs);
}
