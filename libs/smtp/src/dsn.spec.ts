import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { buildDsn, readHeaderBlock, statusFromReply } from './dsn';

const original = Buffer.from(
  'From: Alice <alice@a.test>\r\nTo: bob@remote.test\r\nSubject: Quarterly numbers\r\nMessage-ID: <orig-1@a.test>\r\n\r\nHello Bob,\r\nsee you.\r\n',
);

describe('buildDsn', () => {
  it('builds a failure report that mailparser reads back, with the original headers (RET=HDRS)', async () => {
    const dsn = buildDsn({
      reportingMta: 'mx1.dizi.test',
      to: 'alice@a.test',
      arrivalDate: new Date('2025-03-01T10:00:00Z'),
      date: new Date('2025-03-01T10:05:00Z'),
      originalMessageId: '<orig-1@a.test>',
      envId: 'ENV-42',
      recipients: [
        { finalRecipient: 'bob@remote.test', action: 'failed', status: '5.1.1', remoteMta: 'mx.remote.test', diagnostic: '550 5.1.1 <bob@remote.test>: no such\r\nuser' },
        { finalRecipient: 'carol@remote.test', originalRecipient: 'c@remote.test', action: 'failed', status: 'bogus', diagnostic: '554 rejected' },
      ],
      originalHeaders: await readHeaderBlock(Readable.from([original.subarray(0, 30), original.subarray(30)])),
    });
    expect(dsn.mailFrom).toBe('');
    const raw = dsn.raw;
    // every line ends in CRLF and none is longer than 998 octets
    expect(raw.toString('latin1').split('\r\n').every((l) => !l.includes('\n') && l.length <= 998)).toBe(true);

    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe('Undelivered Mail Returned to Sender / 退信通知');
    expect(parsed.messageId).toBe(dsn.messageId);
    expect(parsed.inReplyTo).toBe('<orig-1@a.test>');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    const ct = parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(ct.value).toBe('multipart/report');
    expect(ct.params['report-type']).toBe('delivery-status');
    expect(parsed.text).toContain('your message could not be delivered');
    expect(parsed.text).toContain('很抱歉，您的邮件无法投递');
    expect(parsed.text).toContain('<bob@remote.test>: 550 5.1.1 <bob@remote.test>: no such user');

    const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status');
    expect(status).toBeDefined();
    const fields = status!.content.toString('utf8');
    const groups = fields.trim().split(/\r\n\r\n/);
    expect(groups).toHaveLength(3);
    expect(groups[0]).toBe('Reporting-MTA: dns; mx1.dizi.test\r\nOriginal-Envelope-Id: ENV-42\r\nArrival-Date: Sat, 01 Mar 2025 10:00:00 +0000');
    expect(groups[1].split('\r\n')).toEqual([
      'Final-Recipient: rfc822; bob@remote.test',
      'Action: failed',
      'Status: 5.1.1',
      'Remote-MTA: dns; mx.remote.test',
      'Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.test>: no such user',
    ]);
    expect(groups[2].split('\r\n')).toEqual([
      'Original-Recipient: rfc822; c@remote.test',
      'Final-Recipient: rfc822; carol@remote.test',
      'Action: failed',
      'Status: 5.0.0',
      'Diagnostic-Code: smtp; 554 rejected',
    ]);

    const headers = parsed.attachments.find((a) => a.contentType === 'text/rfc822-headers');
    // the header block comes back whole (its final blank line is the part's delimiter)
    expect(headers!.content.toString('utf8').replace(/(\r\n)+$/, '')).toBe(original.toString('utf8').split('\r\n\r\n')[0]);
  });

  it('returns the whole original as message/rfc822 (RET=FULL), byte for byte', async () => {
    const dsn = buildDsn({
      reportingMta: 'mx1.dizi.test',
      to: 'alice@a.test',
      arrivalDate: new Date(),
      recipients: [{ finalRecipient: 'bob@remote.test', action: 'failed', status: '5.7.1' }],
      originalHeaders: original,
      originalMessage: original,
    });
    const raw = dsn.raw.toString('latin1');
    const start = raw.indexOf('Content-Type: message/rfc822');
    const bodyStart = raw.indexOf('\r\n\r\n', start) + 4;
    const bodyEnd = raw.lastIndexOf('\r\n--');
    expect(raw.slice(bodyStart, bodyEnd)).toBe(original.toString('latin1'));
    expect(raw.endsWith('--\r\n')).toBe(true);
    const parsed = await simpleParser(Buffer.from(raw, 'latin1'));
    const attached = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
    expect(attached!.content.toString('utf8')).toContain('Subject: Quarterly numbers');
  });

  it('words a delay notice as such, with Will-Retry-Until', async () => {
    const dsn = buildDsn({
      reportingMta: 'mx1.dizi.test',
      to: 'alice@a.test',
      arrivalDate: new Date('2025-03-01T10:00:00Z'),
      recipients: [{ finalRecipient: 'bob@remote.test', action: 'delayed', status: '4.4.1', diagnostic: '421 try later', willRetryUntil: new Date('2025-03-06T10:00:00Z') }],
      originalHeaders: await readHeaderBlock(Readable.from([original])),
    });
    const parsed = await simpleParser(dsn.raw);
    expect(parsed.subject).toContain('邮件延迟投递通知');
    expect(parsed.text).toContain('<bob@remote.test>: 421 try later (retrying until Thu, 06 Mar 2025 10:00:00 +0000)');
    expect(parsed.text).toContain('您的邮件暂时未能投递');
    const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status')!.content.toString();
    expect(status).toContain('Action: delayed\r\nStatus: 4.4.1');
    expect(status).toContain('Will-Retry-Until: Thu, 06 Mar 2025 10:00:00 +0000');
  });

  it('words success notices ("delivered", "relayed") in both languages and takes ORCPT as given (type;address)', async () => {
    const dsn = buildDsn({
      reportingMta: 'mx1.dizi.test',
      to: 'alice@a.test',
      recipients: [
        { finalRecipient: 'bob@local.test', originalRecipient: 'rfc822;Robert@Local.test', action: 'delivered', status: '2.0.0' },
        { finalRecipient: 'carol@remote.test', originalRecipient: 'rfc822;carol@remote.test', action: 'relayed', status: '2.0.0', remoteMta: 'mx.remote.test' },
        { finalRecipient: 'dan@remote.test', originalRecipient: 'x-unknown;dan-at-home', action: 'relayed', status: '2.0.0' },
      ],
      originalHeaders: original,
    });
    const parsed = await simpleParser(dsn.raw);
    expect(parsed.subject).toBe('Delivery Status Notification / 投递状态通知');
    expect(parsed.text).toContain('Your message was delivered to the recipients below.');
    expect(parsed.text).toContain('您的邮件已成功投递给以下收件人。');
    expect(parsed.text).toContain('<carol@remote.test>: relayed to mx.remote.test');
    expect(parsed.text).toContain('您的邮件已转交给以下收件人的邮件系统');
    const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status')!.content.toString();
    expect(status).toContain('Original-Recipient: rfc822; Robert@Local.test\r\nFinal-Recipient: rfc822; bob@local.test\r\nAction: delivered\r\nStatus: 2.0.0');
    // The same address as the final one (case aside) is not repeated; other address types pass through.
    expect(status).not.toContain('Original-Recipient: rfc822; carol@remote.test');
    expect(status).toContain('Original-Recipient: x-unknown; dan-at-home');
    expect(status).not.toContain('rfc822; rfc822;');
  });

  it('refuses a report without recipients', () => {
    expect(() => buildDsn({ reportingMta: 'h', to: 'a@b.test', recipients: [], originalHeaders: Buffer.alloc(0) })).toThrow(/recipient/);
  });
});

describe('statusFromReply', () => {
  it('takes the enhanced code of the reply when its class matches, else the basic class', () => {
    expect(statusFromReply(550, '550 5.1.1 no such user')).toBe('5.1.1');
    expect(statusFromReply(451, '4.7.1 greylisted')).toBe('4.7.1');
    expect(statusFromReply(550, 'mailbox unavailable')).toBe('5.0.0');
    expect(statusFromReply(421, '421 5.0.0 mixed up')).toBe('4.0.0');
    expect(statusFromReply(undefined, 'connection refused')).toBe('4.0.0');
  });
});
