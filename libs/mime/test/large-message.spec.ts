import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBodyStructure } from '../src/imap-format';
import { summariseMessage } from '../src/message-summary';

const MB = 1024 * 1024;
const textLine = Buffer.from('quarterly figures for the 北京 office, line of searchable text\r\n');
const textBlock = Buffer.concat(Array.from({ length: 1024 }, () => textLine));
const textBlocks = Math.floor((4 * MB) / textBlock.length);

// A 50 MB message made on the fly: 4 MB of text (over the 2 MB search cap) and a 46 MB base64 attachment.
function* largeMessage(): Generator<Buffer> {
  yield Buffer.from(
    'From: big@example.com\r\nTo: bob@dizi.test\r\nSubject: large\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: multipart/mixed; boundary="big-boundary"\r\n\r\n--big-boundary\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n\r\n',
  );
  for (let n = 0; n < textBlocks; n++) yield textBlock;
  yield Buffer.from('--big-boundary\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n' +
    'Content-Disposition: attachment; filename="big.bin"\r\n\r\n');
  const b64Line = Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n');
  const b64Block = Buffer.concat(Array.from({ length: 1024 }, () => b64Line));
  for (let n = 0; n < (46 * MB) / b64Block.length; n++) yield b64Block;
  yield Buffer.from('--big-boundary--\r\n');
}

describe('summariseMessage on a 50 MB message', () => {
  it('streams it with flat memory', async () => {
    let total = 0;
    const source = Readable.from((function* () {
      for (const chunk of largeMessage()) {
        total += chunk.length;
        yield chunk;
      }
    })());
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const started = process.hrtime.bigint();
    const summary = await summariseMessage(source);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    const growth = (peak - baseline) / MB;
    console.log(`50 MB message: ${(total / MB).toFixed(1)} MB in ${seconds.toFixed(2)} s = ${(total / MB / seconds).toFixed(1)} MB/s, rss growth ${growth.toFixed(1)} MB`);
    expect(total).toBeGreaterThan(49 * MB);
    expect(summary.size).toBe(total);
    expect(growth).toBeLessThan(100);
    expect(summary.attachmentNames).toEqual(['big.bin']);
    expect(summary.searchText.body.length).toBe(2 * MB);
    expect(summary.searchText.body.startsWith('quarterly figures for the 北京 office')).toBe(true);
    const text = summary.partOffsets['1'];
    // the CRLF before the next boundary belongs to the boundary, so the last text line loses its line break
    const textSize = textBlocks * textBlock.length - 2;
    const textLines = textBlocks * 1024 - 1;
    expect(text.bodyEnd - text.bodyStart).toBe(textSize);
    expect(formatBodyStructure(summary.bodyStructure, false)).toMatch(
      new RegExp(`^\\(\\("text" "plain" \\("charset" "utf-8"\\) NIL NIL "7bit" ${textSize} ${textLines}\\)\\("application" "octet-stream" NIL NIL NIL "base64" \\d+\\) "mixed"\\)$`),
    );
  });
});
