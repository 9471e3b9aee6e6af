/**
 * ClamAV's clamd, INSTREAM command (clamd(8)): `zINSTREAM\0`, then the message in chunks each prefixed by its
 * length as a 4-byte big-endian number, then a zero length; clamd answers `stream: OK`, `stream: <name> FOUND` or
 * `<reason> ERROR`, NUL-terminated, and closes. Over its StreamMaxLength clamd answers at once and closes.
 */
import type { Readable } from 'node:stream';
import { DaemonConnection, ScannerError } from './daemon-connection';

export type ClamdVerdict = { infected: false } | { infected: true; signature: string };

export interface ClamdOptions {
  timeoutMs: number;
}

/** Chunks sent to clamd are at most this big (its reads are bounded by StreamMaxLength, not by chunk). */
const MAX_CHUNK = 64 * 1024;
const INSTREAM = Buffer.from('zINSTREAM\0');
const END = Buffer.alloc(4);

/** Scans `source` (read to its end, or destroyed on failure). Rejects with ScannerError when clamd cannot tell. */
export async function clamdScan(address: string, source: Readable, o: ClamdOptions): Promise<ClamdVerdict> {
  let conn: DaemonConnection | null = null;
  try {
    conn = await DaemonConnection.open('clamd', address, o.timeoutMs);
    const c = conn;
    try {
      await c.write(INSTREAM);
      sending: for await (const data of source) {
        const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data as string);
        for (let at = 0; at < chunk.length; at += MAX_CHUNK) {
          // clamd speaks before the end only to refuse the stream (size limit): stop sending and read why.
          if (c.receivedSoFar().length > 0) break sending;
          const piece = chunk.subarray(at, at + MAX_CHUNK);
          const length = Buffer.alloc(4);
          length.writeUInt32BE(piece.length);
          await c.write(Buffer.concat([length, piece]));
        }
      }
      if (c.receivedSoFar().length === 0) await c.write(END);
    } catch (err) {
      await c.settle();
      const early = c.receivedSoFar();
      if (early.includes(0)) return parseClamdReply(early);
      // Its answer can be lost when the socket breaks first: say what a refused stream most likely means.
      throw new ScannerError(`clamd closed the connection while the message was being sent (${(err as Error).message}); is the message larger than its StreamMaxLength?`);
    }
    const reply = await c.answer().catch((err: unknown) => {
      const got = c.receivedSoFar();
      if (got.includes(0)) return got;
      throw err;
    });
    return parseClamdReply(reply);
  } finally {
    conn?.close();
    source.destroy();
  }
}

export function parseClamdReply(reply: Buffer): ClamdVerdict {
  const end = reply.indexOf(0);
  const text = reply.subarray(0, end < 0 ? reply.length : end).toString('utf8').trim();
  if (!text) throw new ScannerError('clamd closed the connection without an answer');
  if (/ ERROR$/.test(text)) throw new ScannerError(`clamd: ${text}`);
  const found = /^(?:stream|[^:]*): (.+) FOUND$/.exec(text);
  if (found) return { infected: true, signature: found[1] };
  if (/^(?:stream|[^:]*): OK$/.test(text)) return { infected: false };
  throw new ScannerError(`clamd answered something unexpected: ${text.slice(0, 200)}`);
}

/** `zPING\0` → `PONG`: whether clamd is up (health checks, tests waiting for a daemon they started). */
export async function clamdPing(address: string, timeoutMs: number): Promise<boolean> {
  try {
    const conn = await DaemonConnection.open('clamd', address, timeoutMs);
    try {
      await conn.write(Buffer.from('zPING\0'));
      return (await conn.answer()).toString('latin1').startsWith('PONG');
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}
