import { describe, expect, it } from 'vitest';
import { receivedHeader, rfc5322Date } from './received-header';

const base = { helo: 'client.test', clientHostname: 'mail.client.test', clientIp: '192.0.2.7', host: 'mx.dizi.test', protocol: 'ESMTPS', id: 'abc', recipient: 'a@b.test', date: new Date(Date.UTC(2025, 11, 2, 9, 5, 7)) };

describe('receivedHeader', () => {
  it('follows RFC 5321 §4.4 with a for clause for one recipient', () => {
    expect(receivedHeader(base)).toBe(
      'Received: from client.test (mail.client.test [192.0.2.7])\r\n\tby mx.dizi.test with ESMTPS id abc\r\n\tfor <a@b.test>;\r\n\tTue, 02 Dec 2025 09:05:07 +0000\r\n',
    );
  });

  it('names no recipient for several, leaves out a missing reverse name and marks IPv6', () => {
    expect(receivedHeader({ ...base, recipient: null, clientHostname: '[2001:db8::1]', clientIp: '2001:db8::1' })).toBe(
      'Received: from client.test ([IPv6:2001:db8::1])\r\n\tby mx.dizi.test with ESMTPS id abc;\r\n\tTue, 02 Dec 2025 09:05:07 +0000\r\n',
    );
  });

  it('cannot be broken by what the client chose to say', () => {
    const h = receivedHeader({ ...base, helo: 'evil)\r\nX-Injected: 1 (', recipient: 'a@b.test>\r\nBcc: x' });
    expect(h.split('\r\n').filter(Boolean).every((l, i) => i === 0 || l.startsWith('\t'))).toBe(true);
    expect(h).not.toContain('X-Injected: 1');
  });

  it('writes RFC 5322 dates', () => {
    expect(rfc5322Date(new Date(Date.UTC(2024, 1, 29, 23, 59, 59)))).toBe('Thu, 29 Feb 2024 23:59:59 +0000');
  });
});
