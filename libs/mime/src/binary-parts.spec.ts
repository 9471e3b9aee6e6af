import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodeBinaryParts } from './binary-parts';
import { summariseMessage } from './message-summary';

async function convert(message: Buffer, chunk = 0): Promise<Buffer> {
  const pieces: Buffer[] = [];
  if (chunk > 0) for (let i = 0; i < message.length; i += chunk) pieces.push(message.subarray(i, i + chunk));
  else pieces.push(message);
  const out: Buffer[] = [];
  for await (const c of encodeBinaryParts(Readable.from(pieces))) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** Octets 0..255 twice (NUL, bare CR and bare LF among them), ending in a line break of its own. */
const BINARY = Buffer.concat([Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256)), Buffer.from('\r\n')]);

describe('encodeBinaryParts', () => {
  it('re-encodes a binary single-part message as base64, its last line end included', async () => {
    const body = Buffer.from([0x00, 0x2d, 0xe4, 0x0a, 0x0d, 0x0a, 0x0a]);
    const message = Buffer.concat([Buffer.from('From: user@domain.org\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'), body]);
    const out = await convert(message);
    const text = out.toString('latin1');
    expect(text).toBe('From: user@domain.org\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAC3kCg0KCg==\r\n');
    const summary = await summariseMessage(out);
    expect(summary.bodyStructure).toMatchObject({ kind: 'single', encoding: 'base64' });
  });

  it('converts only the binary part of a multipart message; its boundary keeps its line break', async () => {
    const head = 'From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="xx"\r\n\r\npreamble\r\n'
      + '--xx\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nhéllo\r\n\r\n'
      + '--xx\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding:\r\n Binary\r\nX-After: kept\r\n\r\n';
    const tail = '\r\n--xx--\r\nepilogue\r\n';
    const message = Buffer.concat([Buffer.from(head, 'utf8'), BINARY, Buffer.from(tail)]);
    for (const chunk of [0, 1, 7, 100]) {
      const out = await convert(message, chunk);
      const text = out.toString('latin1');
      const expectedHead = Buffer.from(head, 'utf8').toString('latin1').replace('Content-Transfer-Encoding:\r\n Binary\r\n', 'Content-Transfer-Encoding: base64\r\n');
      expect(text.startsWith(expectedHead), `chunk ${chunk}`).toBe(true);
      expect(text.endsWith(tail)).toBe(true);
      const encoded = text.slice(expectedHead.length, text.length - tail.length);
      expect(encoded.split('\r\n').every((line) => line.length <= 76 && /^[A-Za-z0-9+/=]*$/.test(line))).toBe(true);
      expect(Buffer.from(encoded, 'base64').equals(BINARY), `chunk ${chunk}`).toBe(true);
    }
    const summary = await summariseMessage(await convert(message));
    expect(summary.bodyStructure).toMatchObject({ kind: 'multipart', children: [{ encoding: '8bit' }, { encoding: 'base64' }] });
  });

  it('leaves every byte of a message without binary parts as it was', async () => {
    const message = Buffer.from('From: a@b.example\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b \r\nContent-Type: text/plain\r\n\r\nplain\n'
      + '--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: binary\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n');
    for (const chunk of [0, 3]) expect((await convert(message, chunk)).equals(message)).toBe(true);
  });

  it('converts a binary part inside an attached message', async () => {
    const message = Buffer.concat([
      Buffer.from('Subject: outer\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n'
        + 'Subject: inner\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
      BINARY,
      Buffer.from('\r\n--o--\r\n'),
    ]);
    const out = await convert(message);
    const summary = await summariseMessage(out);
    const inner = summary.bodyStructure.kind === 'multipart' ? summary.bodyStructure.children[0] : null;
    expect(inner).toMatchObject({ type: 'message', message: { body: { encoding: 'base64' } } });
    const range = summary.partOffsets['1.1'];
    expect(Buffer.from(out.subarray(range.bodyStart, range.bodyEnd).toString('latin1'), 'base64').equals(BINARY)).toBe(true);
  });
});
