// RFC 5228 base language run over messages: the §9 example, control flow, implicit keep, conflicts, runtime errors.
import { describe, expect, it } from 'vitest';
import { parseSieve, runSieve } from '../src/sieve';
import type { SieveEnvironment } from '../src/message';
import { type TestMessageInput, testMessage } from './sieve-message';

const run = (script: string, message: TestMessageInput, env: SieveEnvironment = {}) => runSieve(parseSieve(script), testMessage(message), env);
const KEEP = { type: 'keep', flags: [], implicit: true };

const RFC5228_EXAMPLE = `#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
`;

describe('RFC 5228 §9 example script', () => {
  it('files list mail into "filter"', () => {
    const r = run(RFC5228_EXAMPLE, { headers: 'Sender: owner-ietf-mta-filters@imc.org\nFrom: a@b.org\nTo: me@example.com' });
    expect(r.actions).toEqual([{ type: 'fileinto', mailbox: 'filter', flags: [], create: false, copy: false }]);
  });

  it('keeps company mail (address :domain, case-insensitive tag)', () => {
    const r = run(RFC5228_EXAMPLE, { headers: 'From: "Colleague" <c@Example.COM>\nTo: me@example.com' });
    expect(r.actions).toEqual([{ type: 'keep', flags: [], implicit: false }]);
  });

  it('files spam: not addressed to me, or a known spam subject', () => {
    expect(run(RFC5228_EXAMPLE, { headers: 'From: x@spam.test\nTo: other@else.test\nSubject: hello' }).actions[0]).toMatchObject({ mailbox: 'spam' });
    // Mail to me at example.com is company mail (kept); the subject rule catches me in Cc of outside mail.
    expect(run(RFC5228_EXAMPLE, { headers: 'From: x@spam.test\nTo: list@else.test\nCc: me@example.com\nSubject: MAKE lots of MONEY very FAST' }).actions[0]).toMatchObject({
      mailbox: 'spam',
    });
  });

  it('files everything else into "personal"', () => {
    const r = run(RFC5228_EXAMPLE, { headers: 'From: friend@else.test\nTo: list@else.test\nCc: Me <me@example.com>\nSubject: lunch?' });
    expect(r.actions).toEqual([{ type: 'fileinto', mailbox: 'personal', flags: [], create: false, copy: false }]);
    expect(r.errors).toEqual([]);
  });
});

describe('RFC 5228 control flow and implicit keep', () => {
  it('keeps implicitly when no action runs, and after stop', () => {
    expect(run('if false { discard; }', { headers: 'Subject: x' }).actions).toEqual([KEEP]);
    expect(run('stop; discard;', { headers: 'Subject: x' }).actions).toEqual([KEEP]);
  });

  it('discard cancels the implicit keep; an explicit keep after it still keeps', () => {
    expect(run('discard;', { headers: 'Subject: x' }).actions).toEqual([]);
    expect(run('discard; keep;', { headers: 'Subject: x' }).actions).toEqual([{ type: 'keep', flags: [], implicit: false }]);
  });

  it('runs only the first true branch of an if/elsif/else chain, and the next chain independently', () => {
    const script = 'require "fileinto"; if false { fileinto "a"; } elsif true { fileinto "b"; } elsif true { fileinto "c"; } else { fileinto "d"; } if true { fileinto "e"; }';
    expect(run(script, { headers: '' }).actions.map((a: any) => a.mailbox)).toEqual(['b', 'e']);
  });

  it('evaluates allof/anyof/not, exists and size', () => {
    const script = `require "fileinto";
      if allof (exists ["From", "Subject"], not exists "X-Spam", size :under 1K) { fileinto "small"; }
      if anyof (size :over 100K, header :contains "subject" "big") { fileinto "big"; }`;
    expect(run(script, { headers: 'From: a@b.c\nSubject: hi', size: 500 }).actions.map((a: any) => a.mailbox)).toEqual(['small']);
    expect(run(script, { headers: 'From: a@b.c\nSubject: a big one', size: 2000 }).actions.map((a: any) => a.mailbox)).toEqual(['big']);
    expect(run(script, { headers: 'From: a@b.c', size: 200 * 1024 }).actions.map((a: any) => a.mailbox)).toEqual(['big']);
    // size :over is strictly greater.
    expect(run('if size :over 100 { discard; }', { headers: '', size: 100 }).actions).toEqual([KEEP]);
  });

  it('matches header names case-insensitively and every occurrence of a repeated field', () => {
    const r = run('require "fileinto"; if header :is "x-tag" "second" { fileinto "t"; }', { headers: 'X-Tag: first\nx-TAG: second' });
    expect(r.actions).toEqual([{ type: 'fileinto', mailbox: 't', flags: [], create: false, copy: false }]);
  });

  it('address test reads each address of a list, with display names, comments and groups', () => {
    const script = 'require "fileinto"; if address :is :localpart "to" "carol" { fileinto "c"; }';
    const headers = 'To: "Doe, John" <john@x.test>, undisclosed: alice@x.test, carol@x.test (Carol);, bob@x.test';
    expect(run(script, { headers }).actions[0]).toMatchObject({ mailbox: 'c' });
    expect(run('require "fileinto"; if address :is "to" "john@x.test" { fileinto "j"; }', { headers }).actions[0]).toMatchObject({ mailbox: 'j' });
  });

  it('envelope test: from/to parts, and the null sender matching the empty string', () => {
    const script = 'require ["envelope", "fileinto"]; if envelope :domain :is "from" "lists.test" { fileinto "lists"; } elsif envelope :all :is "from" "" { fileinto "bounces"; }';
    expect(run(script, { headers: '', from: 'owner@LISTS.test' }).actions[0]).toMatchObject({ mailbox: 'lists' });
    expect(run(script, { headers: '', from: '' }).actions[0]).toMatchObject({ mailbox: 'bounces' });
  });

  it('stores once when keep and fileinto "INBOX" or the same fileinto repeat (§4.2)', () => {
    const r = run('require "fileinto"; keep; fileinto "INBOX"; fileinto "a"; fileinto "a";', { headers: '' });
    expect(r.actions).toEqual([
      { type: 'keep', flags: [], implicit: false },
      { type: 'fileinto', mailbox: 'a', flags: [], create: false, copy: false },
    ]);
  });

  it('fileinto "INBOX" then keep also stores once, with the flags of both', () => {
    const r = run('require ["fileinto", "imap4flags"]; fileinto :flags "a" "inbox"; keep :flags "b";', { headers: '' });
    expect(r.actions).toEqual([{ type: 'fileinto', mailbox: 'inbox', flags: ['a', 'b'], create: false, copy: false }]);
  });

  it('the implicit keep does not store a second copy after fileinto :copy "INBOX"', () => {
    const r = run('require ["fileinto", "copy", "imap4flags"]; fileinto :copy :flags "a" "INBOX"; addflag "b";', { headers: '' });
    expect(r.actions).toEqual([{ type: 'fileinto', mailbox: 'INBOX', flags: ['a', 'b'], create: false, copy: true }]);
  });

  it('redirect cancels the implicit keep; the same address twice redirects once', () => {
    const r = run('redirect "a@x.test"; redirect "A@x.test";', { headers: '' });
    expect(r.actions).toEqual([{ type: 'redirect', address: 'a@x.test', copy: false }]);
  });
});

describe('RFC 5228 runtime errors never lose the message', () => {
  it('too many redirects: the error is reported and only the implicit keep remains', () => {
    const r = run('redirect "a@x.test"; redirect "b@x.test"; redirect "c@x.test";', { headers: '' }, { limits: { maxRedirects: 2 } });
    expect(r.actions).toEqual([KEEP]);
    expect(r.errors).toEqual(['line 1:43: more than 2 redirects']);
  });

  it('too many actions', () => {
    const r = run('require "fileinto"; fileinto "a"; fileinto "b"; fileinto "c";', { headers: '' }, { limits: { maxActions: 2 } });
    expect(r.actions).toEqual([KEEP]);
    expect(r.errors[0]).toMatch(/more than 2 actions/);
  });

  it('a redirect back to the recipient is refused as a loop', () => {
    const r = run('redirect "user@example.com";', { headers: '', to: 'User@Example.com' });
    expect(r.actions).toEqual([KEEP]);
    expect(r.errors[0]).toMatch(/would loop/);
  });

  it('a body test without a body accessor is a runtime error, not a crash', () => {
    const script = parseSieve('require "body"; if body :contains "x" { discard; }');
    const message = { ...testMessage({ headers: '' }), body: undefined };
    expect(runSieve(script, message)).toMatchObject({ actions: [KEEP], errors: [expect.stringMatching(/body test is not available/)] });
  });

  it('refuses to run a script that was not validated', () => {
    expect(() => runSieve(parseSieve('keep;', { validate: false }), testMessage({ headers: '' }))).toThrow(/validated script/);
  });
});
