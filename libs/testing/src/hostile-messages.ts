/**
 * Messages built to hurt a MIME parser (issue 11, item 9), made in memory in milliseconds: deep nesting, tens of
 * thousands of parts, one line of megabytes, tens of thousands of header fields or encoded words, broken boundaries,
 * invalid base64 and charsets. Shared by libs/mime's specs and the wire tests that send them through SMTP and APPEND.
 * Each has a word of its own in a plain text part near its start (`marker`), for SEARCH.
 */
const HEAD = (subject: string, marker: string) =>
  `From: Mallory <mallory@hostile.example>\r\nTo: victim@dizi.test\r\nSubject: ${subject}\r\n` +
  `Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${marker}@hostile.example>\r\nMIME-Version: 1.0\r\n`;

/** `depth` multiparts, each the only part of the one above it, a text part at the bottom. */
export function nestedMessage(depth: number, marker = 'nestedmarker'): Buffer {
  const parts: string[] = [HEAD(`nested ${depth}`, marker), `Content-Type: multipart/mixed; boundary="n0"\r\n\r\n`];
  parts.push(`--n0\r\nContent-Type: text/plain\r\n\r\n${marker} at the top\r\n`);
  for (let i = 1; i < depth; i++) parts.push(`--n${i - 1}\r\nContent-Type: multipart/mixed; boundary="n${i}"\r\n\r\n`);
  parts.push(`--n${depth - 1}\r\nContent-Type: text/plain\r\n\r\nat the bottom\r\n`);
  for (let i = depth - 1; i >= 0; i--) parts.push(`--n${i}--\r\n`);
  return Buffer.from(parts.join(''), 'latin1');
}

/** One multipart/mixed of `count` small text parts. */
export function manyPartsMessage(count: number, marker = 'partsmarker'): Buffer {
  const parts: string[] = [HEAD(`${count} parts`, marker), 'Content-Type: multipart/mixed; boundary="p"\r\n\r\n'];
  parts.push(`--p\r\nContent-Type: text/plain\r\n\r\n${marker} first part\r\n`);
  for (let i = 1; i < count; i++) parts.push(`--p\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`);
  parts.push('--p--\r\n');
  return Buffer.from(parts.join(''), 'latin1');
}

/** A text body whose second line is `bytes` long without a line break. */
export function longLineMessage(bytes: number, marker = 'longlinemarker'): Buffer {
  const head = Buffer.from(`${HEAD('one long line', marker)}Content-Type: text/plain\r\n\r\n${marker} before the line\r\n`, 'latin1');
  const line = Buffer.alloc(bytes, 'abcdefghij ');
  return Buffer.concat([head, line, Buffer.from('\r\nafter the line\r\n', 'latin1')]);
}

/** `count` header fields before a short text body. */
export function manyHeadersMessage(count: number, marker = 'headersmarker'): Buffer {
  const fields: string[] = [HEAD(`${count} header fields`, marker)];
  for (let i = 0; i < count; i++) fields.push(`X-Filler-${i}: value ${i}\r\n`);
  fields.push(`Content-Type: text/plain\r\n\r\n${marker} in the body\r\n`);
  return Buffer.from(fields.join(''), 'latin1');
}

/** A Subject of `count` encoded words ("中文" each), folded. */
export function encodedWordsMessage(count: number, marker = 'wordsmarker'): Buffer {
  const word = '=?UTF-8?B?5Lit5paH?=';
  const lines: string[] = [];
  for (let i = 0; i < count; i += 3) lines.push(Array.from({ length: Math.min(3, count - i) }, () => word).join(' '));
  const head = HEAD(lines.join('\r\n '), marker);
  return Buffer.from(`${head}Content-Type: text/plain\r\n\r\n${marker} in the body\r\n`, 'latin1');
}

/** Boundaries that never close, that repeat inside themselves, that are missing, or cut a header short. */
export function brokenBoundariesMessage(marker = 'brokenmarker'): Buffer {
  return Buffer.from(
    `${HEAD('broken boundaries', marker)}Content-Type: multipart/mixed; boundary="x"\r\n\r\npreamble\r\n` +
      `--x\r\nContent-Type: text/plain\r\n\r\n${marker} in the first part\r\n` +
      '--x\r\nContent-Type: multipart/alternative; boundary="x"\r\n\r\n--x\r\n\r\nsame boundary inside\r\n' +
      '--x\r\nContent-Type: multipart/related\r\n\r\nno boundary at all\r\n--y\r\n' +
      '--x\r\nContent-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n----\r\n' +
      '--x\r\nContent-Type: text/plain\r\nX-Cut: this header is cut short by\r\n--x\r\n' +
      '--x\r\nContent-Type: multipart/mixed; boundary="never-closed"\r\n\r\n--never-closed\r\nContent-Type: text/plain\r\n\r\nopen\r\n',
    'latin1',
  );
}

/** Base64 that is not, quoted-printable that is not, charsets nobody has, and 8-bit bytes where they should not be. */
export function badEncodingsMessage(marker = 'encodingmarker'): Buffer {
  const parts = [
    `Content-Type: text/plain; charset=us-ascii\r\n\r\n${marker} plain\r\n`,
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!@@@@####$$$$%%%%\r\n====\r\nZm9v=YmFy\r\n',
    'Content-Type: text/plain; charset="x-no-such-charset"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n=E4=B8=AD=\r\n=\r\n',
    'Content-Type: text/plain; charset=utf-16\r\n\r\n\xff\xfe\xd8\x3d\x01\r\n',
    'Content-Type: text/html; charset=iso-2022-jp\r\nContent-Transfer-Encoding: base64\r\n\r\nGyRCJDMkcyRLJEEkTxsoQg\r\n',
    'Content-Type: application/octet-stream; name="=?x-bogus?B?////?="\r\nContent-Disposition: attachment; filename*=bogus\'\'%FF%FE%\r\n' +
      'Content-Transfer-Encoding: base64\r\n\r\n\xe4\xb8\xad\xff\r\n',
  ];
  const subject = '=?x-unknown?B?5Lit5paH?= =?utf-8?Q?broken=ZZ?= =?utf-8?B?####?= \xe4\xb8\xad\xff';
  return Buffer.from(
    `${HEAD(subject, marker)}Content-Type: multipart/mixed; boundary="e"\r\n\r\n${parts.map((p) => `--e\r\n${p}`).join('')}--e--\r\n`,
    'latin1',
  );
}
