/**
 * The Rspamd HTTP client against a real rspamd (Debian rspamd 3.4, the rules the package ships, no DNS) started for
 * this file with one local rule that scores a marker string, so verdicts are deterministic.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The daemons are test infrastructure, not a runtime dependency of the filters lib.
import { type Rspamd, SPAM_MARKER, SPAM_MARKER_RULE, SPAM_MARKER_SCORE, startRspamd } from '@dizi/testing/scanner-daemons';
import { ScannerError } from '../src/daemon-connection';
import { rspamdCheck } from '../src/rspamd-client';
import { startSilentDaemon } from './silent-daemon';

let rspamd: Rspamd;

beforeAll(async () => {
  rspamd = await startRspamd();
  console.info(`rspamd answered /ping ${rspamd.startMs} ms after spawn`);
}, 320_000);

afterAll(async () => {
  await rspamd?.stop();
});

function mail(body: string): Buffer {
  return Buffer.from([
    'Received: from mail.remote.test (mail.remote.test [192.0.2.10]) by mx.dizi.test with ESMTP id 1; Mon, 1 Jan 2024 10:00:01 +0000',
    'From: Bob Sender <bob@remote.test>', 'To: alice@acme.test', 'Subject: Lunch on Friday',
    'Date: Mon, 1 Jan 2024 10:00:00 +0000', 'Message-ID: <lunch-friday-2024@remote.test>', 'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii', '', body, '',
  ].join('\r\n'));
}

const check = (msg: Buffer, chunk = 1000) => {
  const parts: Buffer[] = [];
  for (let i = 0; i < msg.length; i += chunk) parts.push(msg.subarray(i, i + chunk));
  return rspamdCheck(rspamd.address, Readable.from(parts), msg.length, {
    timeoutMs: 30_000, envelope: { ip: '192.0.2.10', helo: 'mail.remote.test', from: 'bob@remote.test', rcpt: ['alice@acme.test'] },
  });
};

describe('rspamdCheck', () => {
  it("scores an ordinary message without the test's marker rule, and the same message with the marker with that rule's score, strongest symbol first", async () => {
    const ham = await check(mail('Hi Alice,\r\n\r\nShall we meet for lunch on Friday at noon?\r\n\r\nBob'));
    // Offline, rspamd adds a few points of its own (DNS checks that fail): the marker rule is what tells them apart.
    expect(ham.symbols).not.toContain(SPAM_MARKER_RULE);
    expect(ham.symbols.length).toBeGreaterThan(0);
    for (const s of ham.symbols) expect(s).toMatch(/^[A-Z0-9_]+$/);
    const spam = await check(mail(`Hi Alice,\r\n\r\nShall we meet for lunch on Friday at noon?\r\n${SPAM_MARKER}\r\nBob`), 7);
    // Its other symbols vary with how fast the (absent) DNS fails; the marker's own score is exact.
    expect(spam.scores[SPAM_MARKER_RULE]).toBe(SPAM_MARKER_SCORE);
    expect(spam.score).toBeGreaterThanOrEqual(SPAM_MARKER_SCORE);
    expect(ham.scores[SPAM_MARKER_RULE]).toBeUndefined();
    expect(spam.symbols[0]).toBe(SPAM_MARKER_RULE);
    expect(spam.action).not.toBe('no action');
  });

  it('fails with a ScannerError when nothing listens, or the daemon does not answer in time', async () => {
    await expect(rspamdCheck('127.0.0.1:1', Readable.from([Buffer.from('x')]), 1, { timeoutMs: 2000 })).rejects.toBeInstanceOf(ScannerError);
    const silent = await startSilentDaemon();
    try {
      await expect(rspamdCheck(silent.address, Readable.from([Buffer.from('x')]), 1, { timeoutMs: 300 })).rejects.toThrow(/did not answer within 300 ms/);
    } finally {
      await silent.close();
    }
  });
});
