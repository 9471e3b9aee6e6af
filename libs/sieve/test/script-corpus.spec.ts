// Hand-written scripts in the shapes Roundcube's and Thunderbird's managesieve editors write, with expected actions.
import { describe, expect, it } from 'vitest';
import { parseSieve, runSieve } from '../src/sieve';
import type { SieveEnvironment } from '../src/message';
import { type TestMessageInput, testMessage } from './sieve-message';

const ROUNDCUBE = `require ["fileinto","vacation","copy","envelope","body","imap4flags","reject","date","relational","variables","comparator-i;ascii-numeric"];
# rule:[spam]
if anyof (header :contains "x-spam-flag" "YES", header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "7")
{
\tfileinto "Junk";
\tstop;
}
# rule:[boss]
if address :is "from" "boss@corp.example"
{
\taddflag "\\\\Flagged";
\tfileinto :copy "Boss";
}
# rule:[invoices]
if allof (header :contains "subject" ["invoice", "发票"], body :text :contains "total")
{
\tfileinto "Finance/Invoices";
}
# rule:[big]
if size :over 10M
{
\treject text:
Messages over 10 MB are refused.
邮件超过 10 MB，已拒收。
.
;
}
# rule:[vacation]
if allof (currentdate :value "ge" "iso8601" "2026-12-01T00:00:00+00:00", currentdate :value "le" "date" "2026-12-31")
{
\tvacation :days 1 :subject "Out of office / 休假中" :from "user@example.com" :addresses ["user@example.com", "alias@example.com"] "I am away until January.";
}
`;

const cases: { name: string; message: TestMessageInput; env?: SieveEnvironment; actions: unknown[]; error?: RegExp }[] = [
  {
    name: 'spam by flag goes to Junk and stops',
    message: { headers: 'From: x@spam.test\nTo: user@example.com\nX-Spam-Flag: YES\nSubject: invoice' },
    actions: [{ type: 'fileinto', mailbox: 'Junk', flags: [], create: false, copy: false }],
  },
  {
    name: 'spam by score (numeric comparison, not text)',
    message: { headers: 'From: x@spam.test\nTo: user@example.com\nX-Spam-Score: 12.5' },
    actions: [{ type: 'fileinto', mailbox: 'Junk', flags: [], create: false, copy: false }],
  },
  {
    name: 'a low score is not spam; the flag from the boss rule goes with the copy and the implicit keep',
    message: { headers: 'From: Boss <boss@corp.example>\nTo: user@example.com\nX-Spam-Score: 3\nSubject: hi' },
    actions: [
      { type: 'fileinto', mailbox: 'Boss', flags: ['\\Flagged'], create: false, copy: true },
      { type: 'keep', flags: ['\\Flagged'], implicit: true },
    ],
  },
  {
    name: 'a Chinese subject and a body keyword file an invoice',
    message: { headers: 'From: billing@vendor.test\nTo: user@example.com\nSubject: 十二月发票', body: 'Total: 100 CNY' },
    actions: [{ type: 'fileinto', mailbox: 'Finance/Invoices', flags: [], create: false, copy: false }],
  },
  {
    name: 'an oversized message is rejected with the bilingual text',
    message: { headers: 'From: a@b.test\nTo: user@example.com', size: 11 * 1024 * 1024 },
    actions: [{ type: 'reject', reason: 'Messages over 10 MB are refused.\r\n邮件超过 10 MB，已拒收。\r\n', extended: false }],
  },
  {
    name: 'in the vacation window an auto-reply is produced, and the message kept',
    message: { headers: 'From: friend@else.test\nTo: alias@example.com\nSubject: dinner', from: 'friend@else.test' },
    env: { now: () => new Date('2026-12-24T12:00:00Z') },
    actions: [
      {
        type: 'vacation',
        to: 'friend@else.test',
        reason: 'I am away until January.',
        subject: 'Out of office / 休假中',
        from: 'user@example.com',
        mime: false,
        handle: expect.any(String),
        periodSeconds: 86400,
      },
      { type: 'keep', flags: [], implicit: true },
    ],
  },
  {
    name: 'an oversized message during vacation: reject and vacation conflict, so the message is kept and the error reported',
    message: { headers: 'From: a@b.test\nTo: user@example.com', size: 11 * 1024 * 1024 },
    env: { now: () => new Date('2026-12-24T12:00:00Z') },
    actions: [{ type: 'keep', flags: [], implicit: true }],
    error: /"vacation" cannot be combined with "reject"/,
  },
];

describe('script corpus: a Roundcube-style rule set', () => {
  const script = parseSieve(ROUNDCUBE);
  it.each(cases)('$name', ({ message, env, actions, error }) => {
    const result = runSieve(script, testMessage(message), { now: () => new Date('2026-06-01T00:00:00Z'), ...env });
    expect(result.actions).toEqual(actions);
    if (error) expect(result.errors).toEqual([expect.stringMatching(error)]);
    else expect(result.errors).toEqual([]);
  });
});

describe('script corpus: Thunderbird sieve add-on style', () => {
  it('runs a script with CRLF line ends, comments and nested if', () => {
    const text = [
      'require ["fileinto", "envelope", "subaddress"];',
      '/* Thunderbird writes block comments */',
      'if envelope :detail "to" "news" {',
      '  if header :contains "list-id" "tech" { fileinto "News/Tech"; } else { fileinto "News"; }',
      '}',
      '',
    ].join('\r\n');
    const script = parseSieve(text);
    const tech = runSieve(script, testMessage({ headers: 'List-Id: <tech.lists.test>', to: 'user+news@example.com' }));
    expect(tech.actions).toEqual([{ type: 'fileinto', mailbox: 'News/Tech', flags: [], create: false, copy: false }]);
    const other = runSieve(script, testMessage({ headers: 'List-Id: <misc.lists.test>', to: 'user+news@example.com' }));
    expect(other.actions).toEqual([{ type: 'fileinto', mailbox: 'News', flags: [], create: false, copy: false }]);
    const plain = runSieve(script, testMessage({ headers: 'List-Id: <tech.lists.test>', to: 'user@example.com' }));
    expect(plain.actions).toEqual([{ type: 'keep', flags: [], implicit: true }]);
  });
});
