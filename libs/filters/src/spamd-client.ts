/**
 * SpamAssassin's spamd, SPAMC/SPAMD protocol 1.5 (spamd/PROTOCOL in the SpamAssassin sources), command SYMBOLS:
 *
 *   SYMBOLS SPAMC/1.5\r\n  Content-length: <n>\r\n  \r\n  <message>
 *   SPAMD/1.1 0 EX_OK\r\n  Content-length: <m>\r\n  Spam: True ; 20.0 / 5.0\r\n  \r\n  RULE_A,RULE_B
 *
 * The score and the names of the rules that hit; spamd closes after answering. A non-zero code is an error.
 */
import type { Readable } from 'node:stream';
import { DaemonConnection, ScannerError } from './daemon-connection';

export interface SpamdVerdict {
  score: number;
  /** spamd's own required_score (our thresholds are the settings', not this). */
  threshold: number;
  isSpam: boolean;
  symbols: string[];
}

export interface SpamdOptions {
  timeoutMs: number;
  /** Sent as `User:` so spamd applies that user's preferences; none by default. */
  user?: string;
}

/** Scores `source`, which holds exactly `size` bytes (read to its end, or destroyed on failure). */
export async function spamdSymbols(address: string, source: Readable, size: number, o: SpamdOptions): Promise<SpamdVerdict> {
  let conn: DaemonConnection | null = null;
  try {
    conn = await DaemonConnection.open('spamd', address, o.timeoutMs);
    const c = conn;
    const user = o.user ? `User: ${o.user.replace(/[^\x21-\x7e]/g, '')}\r\n` : '';
    await c.write(Buffer.from(`SYMBOLS SPAMC/1.5\r\nContent-length: ${size}\r\n${user}\r\n`, 'latin1'));
    let sent = 0;
    for await (const data of source) {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data as string);
      sent += chunk.length;
      await c.write(chunk);
    }
    if (sent !== size) throw new ScannerError(`spamd: the message had ${sent} bytes, ${size} were announced`);
    const reply = await c.answer().catch((err: unknown) => {
      const got = c.receivedSoFar();
      if (isCompleteReply(got)) return got;
      throw err;
    });
    return parseSpamdReply(reply);
  } finally {
    conn?.close();
    source.destroy();
  }
}

function isCompleteReply(reply: Buffer): boolean {
  const head = reply.indexOf('\r\n\r\n');
  if (head < 0) return false;
  const length = /\r\nContent-length:\s*(\d+)/i.exec(reply.subarray(0, head).toString('latin1'));
  return !!length && reply.length - head - 4 >= Number(length[1]);
}

export function parseSpamdReply(reply: Buffer): SpamdVerdict {
  const text = reply.toString('latin1');
  const status = /^SPAMD\/\d+\.\d+ (\d+) ([^\r\n]*)\r\n/.exec(text);
  if (!status) throw new ScannerError(`spamd answered something unexpected: ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
  if (status[1] !== '0') throw new ScannerError(`spamd: ${status[1]} ${status[2]}`);
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const spam = /\r\nSpam:\s*(True|False|Yes|No)\s*;\s*(-?[\d.]+)\s*\/\s*(-?[\d.]+)/i.exec(head);
  if (!spam) throw new ScannerError('spamd answered without a Spam: header');
  const body = headEnd < 0 ? '' : text.slice(headEnd + 4);
  return {
    isSpam: /^(true|yes)$/i.test(spam[1]),
    score: Number(spam[2]),
    threshold: Number(spam[3]),
    symbols: body.split(',').map((s) => s.trim()).filter(Boolean),
  };
}

/** `PING SPAMC/1.5` → `SPAMD/1.5 0 PONG`: whether spamd is up. */
export async function spamdPing(address: string, timeoutMs: number): Promise<boolean> {
  try {
    const conn = await DaemonConnection.open('spamd', address, timeoutMs);
    try {
      await conn.write(Buffer.from('PING SPAMC/1.5\r\n\r\n'));
      return / 0 PONG/.test((await conn.answer()).toString('latin1'));
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}
