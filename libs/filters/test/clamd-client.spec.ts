/** The clamd INSTREAM client against a real clamd (Debian clamav-daemon) started for this file with test signatures. */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The daemons are test infrastructure, not a runtime dependency of the filters lib.
import { Clamd, EICAR, EICAR_SIGNATURE, startClamd } from '@dizi/testing/scanner-daemons';
import { clamdPing, clamdScan, parseClamdReply } from '../src/clamd-client';
import { ScannerError } from '../src/daemon-connection';
import { startSilentDaemon } from './silent-daemon';

const CUSTOM = 'dizi-virus-test-marker-5f2c';
const STREAM_MAX = 1024 * 1024;
let clamd: Clamd;

beforeAll(async () => {
  clamd = await startClamd({ signatures: [{ name: 'Dizi.Test.Custom', text: CUSTOM }], streamMaxBytes: STREAM_MAX });
});

afterAll(async () => {
  await clamd?.stop();
});

/** A message in pieces of `size` bytes, so signatures straddle chunk boundaries. */
function pieces(text: string | Buffer, size: number): Readable {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return Readable.from(out);
}

const mail = (body: string) => `From: a@remote.test\r\nTo: b@acme.test\r\nSubject: test\r\n\r\n${body}\r\n`;

function withAttachment(name: string, content: string): string {
  const b64 = Buffer.from(content).toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    'From: a@remote.test', 'To: b@acme.test', 'Subject: attachment', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'See attached.', '--b1',
    `Content-Type: application/octet-stream; name="${name}"`, 'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${name}"`, '', b64, '--b1--', '',
  ].join('\r\n');
}

const opts = { timeoutMs: 10_000 };

describe('clamdScan', () => {
  it('answers PING', async () => {
    expect(await clamdPing(clamd.address, 2000)).toBe(true);
    expect(await clamdPing('127.0.0.1:1', 500)).toBe(false);
  });

  it('finds a clean message clean', async () => {
    expect(await clamdScan(clamd.address, pieces(mail('Hello, nothing to see here.'), 100), opts)).toEqual({ infected: false });
  });

  it('names the signature of EICAR in the body, sent in 7-byte chunks', async () => {
    expect(await clamdScan(clamd.address, pieces(mail(EICAR), 7), opts)).toEqual({ infected: true, signature: EICAR_SIGNATURE });
  });

  it('finds EICAR inside a base64 MIME attachment', async () => {
    expect(await clamdScan(clamd.address, pieces(withAttachment('eicar.com', EICAR), 4096), opts)).toEqual({ infected: true, signature: EICAR_SIGNATURE });
  });

  it('finds a custom body signature written by the test', async () => {
    const verdict = await clamdScan(clamd.address, pieces(mail(`some text ${CUSTOM} more text`), 3), opts);
    expect(verdict).toEqual({ infected: true, signature: 'Dizi.Test.Custom.UNOFFICIAL' });
  });

  it('talks over the unix socket, as a path and as unix:<path>', async () => {
    expect(await clamdScan(clamd.socket, pieces(mail(EICAR), 64), opts)).toEqual({ infected: true, signature: EICAR_SIGNATURE });
    expect(await clamdScan(`unix:${clamd.socket}`, pieces(mail('clean'), 64), opts)).toEqual({ infected: false });
  });

  it('streams a message bigger than one chunk (3 × 64 KiB + 1) and still finds EICAR at its end', async () => {
    const big = Buffer.concat([Buffer.from(mail('x'.repeat(3 * 64 * 1024 + 1))), Buffer.from(EICAR)]);
    expect(await clamdScan(clamd.address, Readable.from([big]), opts)).toEqual({ infected: true, signature: EICAR_SIGNATURE });
  });

  it('fails, saying why, when the message is over its StreamMaxLength', async () => {
    const tooBig = Buffer.alloc(STREAM_MAX + 200_000, 'a');
    // clamd answers and closes at once; its answer is read unless the socket broke first (then our own words say it).
    await expect(clamdScan(clamd.address, pieces(tooBig, 64 * 1024), opts)).rejects.toThrow(/clamd: INSTREAM size limit exceeded\. ERROR|larger than its StreamMaxLength/);
    // A message just under the limit still goes through.
    expect(await clamdScan(clamd.address, pieces(Buffer.alloc(STREAM_MAX - 1000, 'a'), 64 * 1024), opts)).toEqual({ infected: false });
  });

  it('fails at once when nothing listens', async () => {
    const started = Date.now();
    await expect(clamdScan('127.0.0.1:1', pieces(mail('x'), 10), opts)).rejects.toBeInstanceOf(ScannerError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('gives up after the timeout when the daemon never answers, and destroys the message stream', async () => {
    const silent = await startSilentDaemon();
    try {
      const source = pieces(mail('x'), 10);
      const started = Date.now();
      await expect(clamdScan(silent.address, source, { timeoutMs: 300 })).rejects.toThrow('clamd did not answer within 300 ms');
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(3000);
      expect(source.destroyed).toBe(true);
    } finally {
      await silent.close();
    }
  });
});

describe('parseClamdReply', () => {
  it('reads OK, FOUND and ERROR answers', () => {
    expect(parseClamdReply(Buffer.from('stream: OK\0'))).toEqual({ infected: false });
    expect(parseClamdReply(Buffer.from('stream: Win.Test.EICAR_HDB-1 FOUND\0'))).toEqual({ infected: true, signature: 'Win.Test.EICAR_HDB-1' });
    expect(() => parseClamdReply(Buffer.from('INSTREAM size limit exceeded. ERROR\0'))).toThrow(/size limit exceeded/);
    expect(() => parseClamdReply(Buffer.from(''))).toThrow(/without an answer/);
    expect(() => parseClamdReply(Buffer.from('hello\0'))).toThrow(/unexpected/);
  });
});
