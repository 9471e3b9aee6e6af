import { describe, expect, it } from 'vitest';
import { bodyLists, decodedText, parseMessage } from './email-parser';

function mime(lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'));
}

describe('the MIME tree as JMAP sees it (RFC 8621 §4.1.4)', () => {
  it('puts alternative text and html in their lists and a PDF in attachments, with section part ids', () => {
    const source = mime([
      'Content-Type: multipart/mixed; boundary=a', '', 'preamble', '--a',
      'Content-Type: multipart/alternative; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'plain', '--b',
      'Content-Type: text/html', '', '<p>html</p>', '--b--', '--a',
      'Content-Type: application/pdf', 'Content-Disposition: attachment; filename=x.pdf', '', 'PDF', '--a--', 'epilogue', '',
    ]);
    const root = parseMessage(source);
    const { textBody, htmlBody, attachments } = bodyLists(root);
    expect(textBody.map((p) => [p.partId, p.type])).toEqual([['1.1', 'text/plain']]);
    expect(htmlBody.map((p) => [p.partId, p.type])).toEqual([['1.2', 'text/html']]);
    expect(attachments.map((p) => [p.partId, p.name])).toEqual([['2', 'x.pdf']]);
    expect(decodedText(source, textBody[0]).text).toBe('plain');
    expect(root.partId).toBeNull();
  });

  it('uses an only-plain alternative for the HTML body too, and inline images for both bodies and attachments', () => {
    const source = mime([
      'Content-Type: multipart/mixed; boundary=a', '', '--a', 'Content-Type: text/plain', '', 'one', '--a',
      'Content-Type: image/png', 'Content-Disposition: inline', '', 'PNG', '--a', 'Content-Type: text/plain', '', 'two', '--a--', '',
    ]);
    const { textBody, htmlBody, attachments } = bodyLists(parseMessage(source));
    expect(textBody.map((p) => p.partId)).toEqual(['1', '2', '3']);
    expect(htmlBody.map((p) => p.partId)).toEqual(['1', '2', '3']);
    expect(attachments).toEqual([]);
  });

  it('treats a single part without Content-Type as text/plain us-ascii and decodes quoted-printable and charsets', () => {
    const plain = parseMessage(mime(['Subject: x', '', 'body']));
    expect(plain).toMatchObject({ partId: '1', type: 'text/plain', charset: 'us-ascii' });
    const source = mime(['Content-Type: text/plain; charset=gb2312', 'Content-Transfer-Encoding: quoted-printable', '', '=C4=E3=BA=C3=', 'end']);
    expect(decodedText(source, parseMessage(source))).toEqual({ text: '你好end', problem: false });
  });
});
