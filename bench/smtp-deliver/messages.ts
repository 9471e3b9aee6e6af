/** The benchmark's messages: plain text of about `bytes`, dot-stuffing free, CRLF lines of 78 characters. */
export function message(bytes: number, n: number, to: string): Buffer {
  const head = `From: Bench Sender <sender@outside.test>\r\nTo: ${to}\r\nSubject: bench message ${n}\r\n`
    + `Message-ID: <bench-${n}-${Date.now()}@outside.test>\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\n`
    + `Content-Type: text/plain; charset=us-ascii\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog while the mail node counts bytes ok\r\n'.slice(-78);
  const lines: string[] = [];
  let size = head.length;
  let i = 0;
  while (size < bytes) {
    const l = `${(n + i++) % 10}${line.slice(1)}`;
    lines.push(l);
    size += l.length;
  }
  return Buffer.from(head + lines.join(''), 'latin1');
}
