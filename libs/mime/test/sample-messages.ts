/** Messages the mime benchmark (bench/mime-summary) measures and the differential spec checks, built one way for both. */

const WORDS = ('the a meeting report budget quarter team project schedule friday review draft numbers customer order shipment invoice '
  + 'thanks please attached question office lunch plan update agenda notes call week month figures travel hotel flight '
  + 'Zürich naïve déjà-vu alice@example.org bob.smith@acme.test 2024-05-17 v1.2.3 x86_64').split(' ');

/** Words drawn by `rnd` (in [0, 1)) with numbers attached, in CRLF lines under 78: more distinct words than a repeated line. */
export function variedMessage(bytes: number, rnd: () => number): Buffer {
  const head = 'From: Dana Example <dana@example.org>\r\nTo: alice@acme.test\r\nSubject: Notes from the weekly review\r\n'
    + 'Date: Fri, 17 May 2024 10:00:00 +0000\r\nMessage-ID: <review-1@example.org>\r\nMIME-Version: 1.0\r\n'
    + 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n';
  let body = '';
  while (head.length + body.length < bytes) {
    let line = '';
    while (line.length < 60) line += `${WORDS[Math.floor(rnd() * WORDS.length)]}${Math.floor(rnd() * 50)} `;
    body += `${line.trim()}.\r\n`;
  }
  return Buffer.from(head + body);
}

/** multipart/mixed: `text` as plain and as HTML (alternative), and a base64 attachment of bytes / 4. */
export function multipartMessage(text: string, bytes: number): Buffer {
  const html = `<html><body><p>${text.replace(/\r\n/g, '<br>\r\n')}</p></body></html>\r\n`;
  const attachment = Buffer.alloc(bytes / 4, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from([
    'From: Dana Example <dana@example.org>', 'To: alice@acme.test', 'Subject: multipart', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"', '', '--outer', 'Content-Type: multipart/alternative; boundary="inner"', '',
    '--inner', 'Content-Type: text/plain; charset=us-ascii', '', text, '--inner', 'Content-Type: text/html; charset=us-ascii',
    'Content-Transfer-Encoding: quoted-printable', '', html, '--inner--', '', '--outer',
    'Content-Type: application/octet-stream; name="a.bin"', 'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="a.bin"', '', attachment, '--outer--', '',
  ].join('\r\n'), 'latin1');
}
