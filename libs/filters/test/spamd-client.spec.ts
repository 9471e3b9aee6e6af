/**
 * The SPAMC/SPAMD client against a real spamd (Debian spamassassin, the rules the package ships, offline) started
 * for this file with one local rule that scores a marker string, so verdicts are deterministic.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The daemons are test infrastructure, not a runtime dependency of the filters lib.
import { ScannerDaemon, SPAM_MARKER, SPAM_MARKER_RULE, SPAM_MARKER_SCORE, startSpamd } from '@dizi/testing/scanner-daemons';
import { ScannerError } from '../src/daemon-connection';
import { parseSpamdReply, spamdPing, spamdSymbols } from '../src/spamd-client';
import { startSilentDaemon } from './silent-daemon';

let spamd: ScannerDaemon;

beforeAll(async () => {
  spamd = await startSpamd();
  console.info(`spamd answered PING ${spamd.startMs} ms after spawn`);
});

afterAll(async () => {
  await spamd?.stop();
});

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

function mail(body: string): Buffer {
  return Buffer.from([
    'Received: from mail.remote.test (mail.remote.test [192.0.2.10]) by mx.dizi.test with ESMTP id 1; Mon, 1 Jan 2024 10:00:01 +0000',
    'From: Bob Sender <bob@remote.test>', 'To: alice@acme.test', 'Subject: Lunch on Friday',
    'Date: Mon, 1 Jan 2024 10:00:00 +0000', 'Message-ID: <lunch-friday-2024@remote.test>', 'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii', '', body, '',
  ].join('\r\n'));
}

const send = (msg: Buffer, chunk = 1000) => {
  const parts: Buffer[] = [];
  for (let i = 0; i < msg.length; i += chunk) parts.push(msg.subarray(i, i + chunk));
  return spamdSymbols(spamd.address, Readable.from(parts), msg.length, { timeoutMs: 30_000 });
};

describe('spamdSymbols', () => {
  it('answers PING', async () => {
    expect(await spamdPing(spamd.address, 2000)).toBe(true);
    expect(await spamdPing('127.0.0.1:1', 500)).toBe(false);
  });

  it('scores an ordinary message low, with the names of the rules that hit', async () => {
    const v = await send(mail('Hi Alice,\r\n\r\nShall we meet for lunch on Friday at noon?\r\n\r\nBob'));
    expect(v.isSpam).toBe(false);
    expect(v.score).toBeLessThan(5);
    expect(v.threshold).toBe(5);
    expect(v.symbols).not.toContain(SPAM_MARKER_RULE);
    for (const s of v.symbols) expect(s).toMatch(/^[A-Z0-9_]+$/);
  });

  it("scores the test's marker rule", async () => {
    const v = await send(mail(`Hi Alice,\r\n\r\n${SPAM_MARKER}\r\n\r\nBob`), 7);
    expect(v.isSpam).toBe(true);
    expect(v.score).toBeGreaterThanOrEqual(SPAM_MARKER_SCORE - 1);
    expect(v.symbols).toContain(SPAM_MARKER_RULE);
  });

  it('runs the rules the package ships (GTUBE) without sa-update', async () => {
    const v = await send(mail(GTUBE));
    expect(v.score).toBeGreaterThanOrEqual(999);
    expect(v.symbols).toContain('GTUBE');
  });

  it('fails at once when nothing listens', async () => {
    const msg = mail('x');
    await expect(spamdSymbols('127.0.0.1:1', Readable.from([msg]), msg.length, { timeoutMs: 5000 })).rejects.toBeInstanceOf(ScannerError);
  });

  it('gives up after the timeout when the daemon never answers', async () => {
    const silent = await startSilentDaemon();
    try {
      const msg = mail('x');
      const started = Date.now();
      await expect(spamdSymbols(silent.address, Readable.from([msg]), msg.length, { timeoutMs: 300 })).rejects.toThrow('spamd did not answer within 300 ms');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await silent.close();
    }
  });
});

describe('parseSpamdReply', () => {
  it('reads the score, the threshold and the symbols', () => {
    const reply = 'SPAMD/1.1 0 EX_OK\r\nContent-length: 27\r\nSpam: True ; 20.5 / 5.0\r\n\r\nDIZI_TEST_SPAM,MISSING_DATE';
    expect(parseSpamdReply(Buffer.from(reply))).toEqual({ isSpam: true, score: 20.5, threshold: 5, symbols: ['DIZI_TEST_SPAM', 'MISSING_DATE'] });
    expect(parseSpamdReply(Buffer.from('SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; -1.2 / 5.0\r\n\r\n')))
      .toEqual({ isSpam: false, score: -1.2, threshold: 5, symbols: [] });
  });

  it("turns spamd's error codes and nonsense into errors", () => {
    expect(() => parseSpamdReply(Buffer.from('SPAMD/1.0 76 Bad header line: (EOF)\r\n'))).toThrow('spamd: 76 Bad header line: (EOF)');
    expect(() => parseSpamdReply(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).toThrow(/unexpected/);
    expect(() => parseSpamdReply(Buffer.from('SPAMD/1.1 0 EX_OK\r\n\r\n'))).toThrow(/without a Spam: header/);
  });
});
