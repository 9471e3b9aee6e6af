// The extensions run over messages, with the RFCs' examples where they give one.
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXTENSIONS } from '../src/extensions';
import { checkSieve, parseSieve, runSieve } from '../src/sieve';
import type { DuplicateCheck, SieveEnvironment } from '../src/message';
import { type TestMessageInput, testMessage } from './sieve-message';

const run = (script: string, message: TestMessageInput, env: SieveEnvironment = {}, extensions?: string[]) =>
  runSieve(parseSieve(script, extensions ? { extensions: [...DEFAULT_EXTENSIONS, ...extensions] } : {}), testMessage(message), env);
const mailboxes = (r: { actions: any[] }) => r.actions.map((a) => a.mailbox ?? a.type);

describe('variables (RFC 5229)', () => {
  it('the List-ID and Subject examples of §3.2 fill ${1} and ${2}', () => {
    const script = `require ["variables", "fileinto"];
      if header :matches "List-ID" "*<*@*" { fileinto "INBOX.lists.\${2}"; stop; }
      if header :matches "Subject" "[*] *" { fileinto "INBOX.lists.\${1}"; stop; }`;
    expect(mailboxes(run(script, { headers: 'List-ID: Sieve list <sieve@ietf.org>' }))).toEqual(['INBOX.lists.sieve']);
    expect(mailboxes(run(script, { headers: 'Subject: [acme-users] [fwd] version 1.0 is out' }))).toEqual(['INBOX.lists.acme-users']);
  });

  it('the address example of §3.2: "**" leaves ${1} empty and ${2} the rest', () => {
    const script = `require ["variables", "fileinto"];
      if address :matches ["To", "Cc"] ["coyote@**.com", "wile@**.com"] { fileinto "INBOX.business.\${2}|\${1}|\${0}"; stop; }`;
    expect(mailboxes(run(script, { headers: 'To: coyote@ACME.Example.COM' }))).toEqual(['INBOX.business.ACME.Example||coyote@ACME.Example.COM']);
  });

  it('the set examples of §4: modifiers in precedence order, multi-line values, case-insensitive names', () => {
    const script = `require ["variables", "fileinto"];
      set "honorific" "Mr"; set "last_name" "Coyote";
      set "vacation" text:
Dear \${HONORIFIC} \${last_name},
I'm out.
.
;
      set "a" "juMBlEd lETteRS";
      set :length "b" "\${a}"; fileinto "\${b}";
      set :lower "b" "\${a}"; fileinto "\${b}";
      set :upperfirst "b" "\${a}"; fileinto "\${b}";
      set :upperfirst :lower "b" "\${a}"; fileinto "\${b}";
      set :quotewildcard "b" "Rock*"; fileinto "\${b}";
      fileinto "\${vacation}";`;
    expect(mailboxes(run(script, { headers: '' }))).toEqual(['15', 'jumbled letters', 'JuMBlEd lETteRS', 'Jumbled letters', 'Rock\\*', "Dear Mr Coyote,\r\nI'm out.\r\n"]);
  });

  it('unknown variables expand to "", malformed references stay literal, and expansion is not recursive', () => {
    // "${dollar}{y}" expands once to the text "${y}", which is not expanded again.
    const script = `require ["variables", "fileinto"]; set "dollar" "$"; set "x" "\${dollar}{y}"; set "y" "deep"; fileinto "[\${nope}][\${x}][\${bad-name}][\${]";`;
    expect(mailboxes(run(script, { headers: '' }))).toEqual(['[][${y}][${bad-name}][${]']);
  });

  it('the string test, with :count ignoring empty strings', () => {
    const script = `require ["variables", "fileinto", "relational", "comparator-i;ascii-numeric"];
      set "a" "hello"; set "e" "";
      if string :is "\${a}" "hello" { fileinto "is"; }
      if string :count "eq" :comparator "i;ascii-numeric" ["\${a}", "\${e}"] "1" { fileinto "count1"; }`;
    expect(mailboxes(run(script, { headers: '' }))).toEqual(['is', 'count1']);
  });

  it('a failed :matches leaves earlier match variables alone', () => {
    const script = `require ["variables", "fileinto"];
      if header :matches "Subject" "*-*" { }
      if header :matches "Subject" "nomatch*" { }
      fileinto "\${1}/\${2}";`;
    expect(mailboxes(run(script, { headers: 'Subject: left-right' }))).toEqual(['left/right']);
  });

  it('values longer than the limit are cut at the limit', () => {
    const r = run('require ["variables", "fileinto"]; set "v" "abcdefghij"; fileinto "${v}";', { headers: '' }, { limits: { maxVariableSize: 4 } });
    expect(mailboxes(r)).toEqual(['abcd']);
  });
});

describe('regex match type (draft-ietf-sieve-regex)', () => {
  it('matches unanchored, sets ${n} from groups, and is case-insensitive under the default comparator', () => {
    const script = `require ["regex", "variables", "fileinto"];
      if header :regex "Subject" "ticket #([0-9]+)" { fileinto "tickets/\${1}"; }`;
    expect(mailboxes(run(script, { headers: 'Subject: Re: TICKET #4711 reopened' }))).toEqual(['tickets/4711']);
  });

  it('an invalid pattern built at run time is a runtime error that keeps the message', () => {
    const r = run('require ["regex", "variables"]; set "p" "("; if header :regex "Subject" "${p}" { discard; }', { headers: 'Subject: x' });
    expect(r.actions).toEqual([{ type: 'keep', flags: [], implicit: true }]);
    expect(r.errors[0]).toMatch(/^line 1:\d+: header: Invalid regular expression/);
  });
});

describe('relational (RFC 5231)', () => {
  it('the examples of §6: :value on X-Priority and :count of addresses', () => {
    const script = `require ["relational", "comparator-i;ascii-numeric", "fileinto"];
      if header :value "lt" :comparator "i;ascii-numeric" ["x-priority"] ["3"] { fileinto "urgent"; }
      if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"] { fileinto "many"; }
      if header :count "ge" :comparator "i;ascii-numeric" ["received"] ["3"] { fileinto "hops"; }`;
    const headers = 'Received: a\nReceived: b\nX-Priority: 1\nTo: a@x.test, b@x.test\nCc: c@x.test';
    expect(mailboxes(run(script, { headers }))).toEqual(['urgent', 'many']);
    expect(mailboxes(run(script, { headers: 'X-Priority: 5\nTo: a@x.test' }))).toEqual(['keep']);
  });
});

describe('subaddress (RFC 5233)', () => {
  it(':user and :detail, an empty detail, and no detail at all', () => {
    const script = `require ["envelope", "subaddress", "fileinto", "variables"];
      if envelope :detail :matches "to" "*" { fileinto "detail-[\${1}]"; }
      if envelope :user :is "to" "ken" { fileinto "user"; }`;
    expect(mailboxes(run(script, { headers: '', to: 'ken+sieve@example.org' }))).toEqual(['detail-[sieve]', 'user']);
    expect(mailboxes(run(script, { headers: '', to: 'ken+@example.org' }))).toEqual(['detail-[]', 'user']);
    // No separator: :detail matches nothing, not even "*".
    expect(mailboxes(run(script, { headers: '', to: 'ken@example.org' }))).toEqual(['user']);
  });

  it('uses the configured separator', () => {
    const script = 'require ["envelope", "subaddress", "fileinto"]; if envelope :detail "to" "lists" { fileinto "lists"; }';
    expect(mailboxes(run(script, { headers: '', to: 'ken-lists@example.org' }, { subaddressSeparator: '-' }))).toEqual(['lists']);
  });
});

describe('copy, mailbox, fileinto :create (RFC 3894, RFC 5490)', () => {
  it(':copy keeps the implicit keep for fileinto and redirect', () => {
    const r = run('require ["copy", "fileinto"]; fileinto :copy "archive"; redirect :copy "boss@x.test";', { headers: '' });
    expect(r.actions).toEqual([
      { type: 'fileinto', mailbox: 'archive', flags: [], create: false, copy: true },
      { type: 'redirect', address: 'boss@x.test', copy: true },
      { type: 'keep', flags: [], implicit: true },
    ]);
  });

  it('mailboxexists asks the caller; :create asks for the mailbox to be made', () => {
    const script = `require ["mailbox", "fileinto"];
      if mailboxexists ["Lists", "Lists/sieve"] { fileinto "Lists/sieve"; } else { fileinto :create "Lists/new"; }`;
    const existing = new Set(['Lists', 'Lists/sieve']);
    expect(run(script, { headers: '' }, { mailboxExists: (n) => existing.has(n) }).actions[0]).toMatchObject({ mailbox: 'Lists/sieve', create: false });
    expect(run(script, { headers: '' }, { mailboxExists: (n) => n === 'Lists' }).actions[0]).toMatchObject({ mailbox: 'Lists/new', create: true });
  });
});

describe('reject and ereject (RFC 5429)', () => {
  it('reject cancels the implicit keep; ereject is marked extended', () => {
    expect(run('require "reject"; reject "go away";', { headers: '' }).actions).toEqual([{ type: 'reject', reason: 'go away', extended: false }]);
    expect(run('require "ereject"; ereject "no";', { headers: '' }).actions).toEqual([{ type: 'reject', reason: 'no', extended: true }]);
  });

  it.each([
    ['require ["reject", "fileinto"]; fileinto "a"; reject "x";', /"reject" cannot be combined with "fileinto"/],
    ['require ["reject"]; reject "x"; keep;', /"keep" cannot be combined with "reject"/],
    ['require ["reject"]; reject "x"; redirect "a@x.test";', /"redirect" cannot be combined with "reject"/],
    ['require ["reject"]; reject "x"; reject "y";', /"reject" cannot be combined with "reject"/],
  ])('conflict %s is a runtime error and the message is kept', (script, error) => {
    const r = run(script, { headers: '' });
    expect(r.actions).toEqual([{ type: 'keep', flags: [], implicit: true }]);
    expect(r.errors[0]).toMatch(error);
  });

  it('reject after discard is allowed', () => {
    expect(run('require "reject"; discard; reject "x";', { headers: '' }).actions).toEqual([{ type: 'reject', reason: 'x', extended: false }]);
  });
});

describe('imap4flags (RFC 5232)', () => {
  it('the internal flags go with fileinto and the implicit keep; :flags overrides them', () => {
    const script = `require ["imap4flags", "fileinto", "copy"];
      addflag "\\\\Seen"; addflag ["\\\\Flagged", "\\\\seen"];
      fileinto "a"; removeflag "\\\\Flagged"; fileinto :copy :flags "$Work" "b";`;
    const r = run(script, { headers: '' });
    expect(r.actions).toEqual([
      { type: 'fileinto', mailbox: 'a', flags: ['\\Seen', '\\Flagged'], create: false, copy: false },
      { type: 'fileinto', mailbox: 'b', flags: ['$Work'], create: false, copy: true },
    ]);
    const copy = run(script.replace('fileinto "a";', 'fileinto :copy "a";'), { headers: '' });
    expect(copy.actions).toEqual([
      { type: 'fileinto', mailbox: 'a', flags: ['\\Seen', '\\Flagged'], create: false, copy: true },
      { type: 'fileinto', mailbox: 'b', flags: ['$Work'], create: false, copy: true },
      { type: 'keep', flags: ['\\Seen'], implicit: true },
    ]);
  });

  it('setflag/hasflag on a variable, the §4 example shape', () => {
    const script = `require ["imap4flags", "fileinto", "variables"];
      if header :contains "from" "boss@frobnitzm.example.edu" {
        setflag "flagvar" "\\\\Flagged";
        fileinto :flags "\${flagvar}" "INBOX.From Boss";
      }
      if hasflag :contains "flagvar" "flag" { addflag "seen-boss"; }`;
    const r = run(script, { headers: 'From: boss@frobnitzm.example.edu' });
    expect(r.actions).toEqual([{ type: 'fileinto', mailbox: 'INBOX.From Boss', flags: ['\\Flagged'], create: false, copy: false }]);
  });

  it('hasflag :count over the internal variable', () => {
    const script = `require ["imap4flags", "relational", "comparator-i;ascii-numeric", "fileinto"];
      setflag "a b c"; if hasflag :count "eq" :comparator "i;ascii-numeric" "3" { fileinto "three"; }`;
    expect(mailboxes(run(script, { headers: '' }))).toEqual(['three']);
  });
});

describe('body (RFC 5173)', () => {
  const message = {
    headers: 'Content-Type: multipart/mixed; boundary=x',
    body: '--x\r\nContent-Type: text/plain\r\n\r\nMAKE MONEY FAST\r\n--x--',
    parts: [
      { type: 'text/plain', text: 'MAKE MONEY FAST' },
      { type: 'application/pdf', text: '%PDF invoice' },
    ],
  };

  it(':text (the default) sees text parts, :content chooses parts by type, :raw sees the undecoded body', () => {
    const script = `require ["body", "fileinto"];
      if body :contains "make money" { fileinto "text"; }
      if body :content "application" :contains "invoice" { fileinto "content"; }
      if body :raw :contains "boundary" { fileinto "raw-header"; }
      if body :raw :contains "Content-Type: text/plain" { fileinto "raw"; }`;
    expect(mailboxes(run(script, message))).toEqual(['text', 'content', 'raw']);
  });
});

describe('date and currentdate (RFC 5260)', () => {
  const headers = 'Date: Tue, 1 Jul 2003 10:52:37 +0200';

  it('date parts of the Date header in the local zone, :zone and :originalzone', () => {
    const script = `require ["date", "variables", "fileinto"];
      if date :is "date" "year" "2003" { fileinto "y2003"; }
      if date :originalzone :matches "date" "time" "*" { fileinto "orig \${1}"; }
      if date :zone "+0000" :matches "date" "iso8601" "*" { fileinto "utc \${1}"; }
      if date :matches "date" "std11" "*" { fileinto "local \${1}"; }
      if date :zone "-0500" :matches "date" "weekday" "*" { fileinto "wd \${1}"; }
      if date :zone "+0000" :matches "date" "julian" "*" { fileinto "mjd \${1}"; }
      if date :is "x-missing" "year" "2003" { fileinto "never"; }`;
    expect(mailboxes(run(script, { headers }, { zone: '+0800' }))).toEqual([
      'y2003',
      'orig 10:52:37',
      'utc 2003-07-01T08:52:37+00:00',
      'local Tue, 01 Jul 2003 16:52:37 +0800',
      'wd 2',
      'mjd 52821',
    ]);
  });

  it('currentdate reads the injected clock; the RFC §7 vacation-window example with :value', () => {
    const script = `require ["date", "relational", "fileinto"];
      if allof (currentdate :value "ge" "date" "2026-12-01", currentdate :value "le" "date" "2026-12-31") { fileinto "december"; }
      if currentdate :zone "+0800" :is "hour" "02" { fileinto "beijing-2am"; }`;
    const now = () => new Date('2026-12-07T18:30:00Z');
    expect(mailboxes(run(script, { headers: '' }, { now }))).toEqual(['december', 'beijing-2am']);
    expect(mailboxes(run(script, { headers: '' }, { now: () => new Date('2027-01-01T00:00:00Z') }))).toEqual(['keep']);
  });
});

describe('index (RFC 5260 §6)', () => {
  const headers = 'Received: from mx2 by mx3\nReceived: from mx1 by mx2\nReceived: from client by mx1\nDate: Tue, 1 Jul 2003 10:52:37 +0200\nTo: a@x.test\nTo: b@y.test';

  it('picks the nth occurrence from the top, or with :last from the bottom, for header, address and date', () => {
    const script = `require ["index", "fileinto", "variables", "date"];
      if header :index 1 :matches "received" "from * by *" { fileinto "top \${1}"; }
      if header :index 1 :last :matches "received" "from * by *" { fileinto "first-hop \${1}"; }
      if address :index 2 :domain :is "to" "y.test" { fileinto "second-to"; }
      if address :index 1 :domain :is "to" "y.test" { fileinto "never"; }
      if header :index 9 :contains "received" "" { fileinto "never"; }
      if date :index 1 :originalzone :is "date" "hour" "10" { fileinto "date"; }`;
    expect(mailboxes(run(script, { headers }))).toEqual(['top mx2', 'first-hop client', 'second-to', 'date']);
  });

  it('needs the extension, :index for :last, and an index from 1', () => {
    expect(() => parseSieve('if header :index 1 "a" "b" {}')).toThrow(/":index" needs the "index" extension/);
    expect(() => parseSieve('require "index"; if header :last "a" "b" {}')).toThrow(/:last needs :index/);
    expect(() => parseSieve('require "index"; if header :index 0 "a" "b" {}')).toThrow(/:index counts from 1/);
  });
});

describe('vacation (RFC 5230)', () => {
  const script = `require "vacation";
    if header :contains "subject" "cyrus" { vacation "I'm out -- send mail to cyrus-bugs"; }
    else { vacation :days 3 :subject "Away" :from "me@example.com" :addresses ["alias@example.com"] :handle "h1" "I'm out -- call me at +1 304 555 0123"; }`;

  it('the §1 example: an action for the caller, to the envelope sender, and the implicit keep', () => {
    const r = run(script, { headers: 'To: user@example.com\nSubject: cyrus crashed', from: 'bob@x.test' });
    expect(r.actions).toEqual([
      {
        type: 'vacation',
        to: 'bob@x.test',
        reason: "I'm out -- send mail to cyrus-bugs",
        subject: 'Auto: cyrus crashed',
        from: undefined,
        mime: false,
        handle: expect.stringMatching(/^[0-9a-f]{32}$/),
        periodSeconds: 7 * 86400,
      },
      { type: 'keep', flags: [], implicit: true },
    ]);
    const second = run(script, { headers: 'Cc: Alias <alias@example.com>\nSubject: hi', from: 'bob@x.test' });
    expect(second.actions[0]).toMatchObject({ subject: 'Away', from: 'me@example.com', handle: 'h1', periodSeconds: 3 * 86400 });
  });

  it('the same arguments give the same default handle, different reasons a different one', () => {
    const a = run(script, { headers: 'To: user@example.com\nSubject: cyrus', from: 'a@x.test' }).actions[0] as any;
    const b = run(script, { headers: 'To: user@example.com\nSubject: cyrus again', from: 'b@x.test' }).actions[0] as any;
    expect(a.handle).toBe(b.handle);
    const c = run('require "vacation"; vacation "other";', { headers: 'To: user@example.com', from: 'a@x.test' }).actions[0] as any;
    expect(c.handle).not.toBe(a.handle);
  });

  it.each([
    ['a null sender', { headers: 'To: user@example.com', from: '' }, 'null sender'],
    ['a list', { headers: 'To: user@example.com\nList-Id: <l.x.test>', from: 'a@x.test' }, 'list'],
    ['bulk mail', { headers: 'To: user@example.com\nPrecedence: bulk', from: 'a@x.test' }, 'precedence bulk'],
    ['automatic mail', { headers: 'To: user@example.com\nAuto-Submitted: auto-replied', from: 'a@x.test' }, 'auto-submitted'],
    ['a daemon', { headers: 'To: user@example.com', from: 'MAILER-DAEMON@x.test' }, 'daemon'],
    ['mail not addressed to the user', { headers: 'To: someone@else.test', from: 'a@x.test' }, 'not named'],
  ])('is not sent to %s (RFC 3834), and the message is still kept', (_what, message, note) => {
    const r = run('require "vacation"; vacation "away";', message);
    expect(r.actions).toEqual([{ type: 'keep', flags: [], implicit: true }]);
    expect(r.notes[0]).toContain(note);
  });

  it('clamps :days to the configured bounds and allows :seconds with vacation-seconds', () => {
    const msg = { headers: 'To: user@example.com', from: 'a@x.test' };
    expect(run('require "vacation"; vacation :days 0 "x";', msg).actions[0]).toMatchObject({ periodSeconds: 86400 });
    expect(run('require "vacation"; vacation :days 365 "x";', msg, { limits: { vacationMaxDays: 10 } }).actions[0]).toMatchObject({ periodSeconds: 10 * 86400 });
    expect(run('require ["vacation", "vacation-seconds"]; vacation :seconds 600 "x";', msg).actions[0]).toMatchObject({ periodSeconds: 600 });
  });

  it('a second vacation is a runtime error', () => {
    const r = run('require "vacation"; vacation "a"; vacation "b";', { headers: 'To: user@example.com', from: 'a@x.test' });
    expect(r.errors[0]).toMatch(/only one vacation/);
  });
});

describe('duplicate (RFC 7352)', () => {
  it('asks the caller about the Message-ID, a header, or :uniqueid, and returns what to record', () => {
    const seen = new Set(['<1@x.test>']);
    const asked: DuplicateCheck[] = [];
    const env: SieveEnvironment = {
      duplicate: (c) => {
        asked.push(c);
        return seen.has(c.id);
      },
    };
    const script = `require ["duplicate", "fileinto", "variables"];
      if duplicate { fileinto "dups"; }
      if duplicate :header "X-Event" :handle "ev" :seconds 3600 :last { fileinto "event-dup"; }
      if header :matches "subject" "*" { if duplicate :uniqueid "\${1}" { discard; } }`;
    const r = run(script, { headers: 'Message-ID: <1@x.test>\nX-Event: e1\nSubject: s' }, env);
    expect(mailboxes(r)).toEqual(['dups']);
    expect(asked).toEqual([
      { id: '<1@x.test>', handle: '', seconds: undefined, last: false },
      { id: 'e1', handle: 'ev', seconds: 3600, last: true },
      { id: 's', handle: '', seconds: undefined, last: false },
    ]);
    expect(r.duplicates).toEqual(asked);
  });

  it('is false, and tracks nothing, without the header', () => {
    const r = run('require "duplicate"; if duplicate { discard; }', { headers: 'Subject: x' }, { duplicate: () => true });
    expect(r.actions).toEqual([{ type: 'keep', flags: [], implicit: true }]);
    expect(r.duplicates).toEqual([]);
  });
});

describe('include (RFC 6609)', () => {
  const scripts: Record<string, string> = {
    'global:spam': 'require ["fileinto"]; if header :contains "X-Spam" "yes" { fileinto "Junk"; stop; }',
    'personal:lists': 'require ["fileinto", "include", "variables"]; global "list"; if header :matches "List-Id" "*<*>*" { set "list" "${2}"; fileinto "lists"; return; } fileinto "not-reached";',
    'personal:loop-a': 'require "include"; include "loop-b";',
    'personal:loop-b': 'require "include"; include "loop-a";',
    'personal:counter': 'require ["fileinto"]; fileinto "counted";',
    'personal:bad': 'require "fileinto"; fileinto;',
  };
  const env: SieveEnvironment = { loadScript: (name, location) => scripts[`${location}:${name}`] ?? null };

  it('runs :global and :personal scripts; stop in an included script ends everything', () => {
    const script = 'require ["include", "fileinto"]; include :global "spam"; fileinto "after";';
    expect(mailboxes(run(script, { headers: 'X-Spam: yes' }, env))).toEqual(['Junk']);
    expect(mailboxes(run(script, { headers: 'X-Spam: no' }, env))).toEqual(['after']);
  });

  it('return ends only the included script; global variables cross scripts', () => {
    const script = 'require ["include", "fileinto", "variables"]; global "list"; include "lists"; fileinto "after/${list}";';
    expect(mailboxes(run(script, { headers: 'List-Id: Sieve <sieve.ietf.org>' }, env))).toEqual(['lists', 'after/sieve.ietf.org']);
  });

  it(':once includes a script one time; :optional skips a missing one', () => {
    const script = 'require ["include", "fileinto", "copy"]; include :once "counter"; include :once "counter"; include :optional "missing";';
    const r = run(script, { headers: '' }, env);
    expect(r.errors).toEqual([]);
    expect(mailboxes(r)).toEqual(['counted']);
  });

  it('refuses loops, missing scripts and invalid ones at run time, keeping the message', () => {
    const loop = run('require "include"; include "loop-a";', { headers: '' }, env);
    expect(loop.actions).toEqual([{ type: 'keep', flags: [], implicit: true }]);
    expect(loop.errors[0]).toContain('include loop: personal:loop-a → personal:loop-b → personal:loop-a');
    expect(run('require "include"; include "missing";', { headers: '' }, env).errors[0]).toMatch(/does not exist/);
    expect(run('require "include"; include "bad";', { headers: '' }, env).errors[0]).toMatch(/included personal script "bad": line 1:21: "fileinto" takes 1 positional/);
  });

  it('refuses a script name built at run time that holds a "/"', () => {
    const r = run('require ["include", "variables"]; set "n" "../other"; include "${n}";', { headers: '' }, env);
    expect(r.errors[0]).toMatch(/without "\/"/);
    expect(checkSieve('require "include"; include "a/b";')).toMatch(/without "\/"/);
  });

  it('refuses includes nested beyond the limit', () => {
    const chain: SieveEnvironment = { loadScript: (name) => `require "include"; include "${name}x";`, limits: { maxIncludeDepth: 5 } };
    expect(run('require "include"; include "a";', { headers: '' }, chain).errors[0]).toMatch(/nested deeper than 5/);
  });
});

describe('editheader (RFC 5703), admin scripts only', () => {
  const headers = 'Received: from a\nX-Spam: yes\nSubject: hi\nX-Spam: maybe';

  it('is refused unless the caller enables it', () => {
    expect(() => parseSieve('require "editheader"; addheader "X-A" "1";')).toThrow(/unsupported extension "editheader"/);
  });

  it('adds at the top or with :last at the bottom, deletes by name, :index, :last and value', () => {
    const script = `require "editheader";
      addheader "X-Top" "1"; addheader :last "X-Bottom" "2";
      deleteheader :index 1 :last "X-Spam";
      deleteheader :contains "subject" "nomatch";`;
    const r = run(script, { headers }, {}, ['editheader']);
    expect(r.headers).toEqual([
      { name: 'X-Top', value: '1' },
      { name: 'Received', value: 'from a' },
      { name: 'X-Spam', value: 'yes' },
      { name: 'Subject', value: 'hi' },
      { name: 'X-Bottom', value: '2' },
    ]);
    const all = run('require "editheader"; deleteheader "x-spam"; if not exists "X-Spam" { discard; }', { headers }, {}, ['editheader']);
    expect(all.headers!.map((h) => h.name)).toEqual(['Received', 'Subject']);
    expect(all.actions).toEqual([]);
  });

  it('leaves Received and Auto-Submitted alone, and refuses a value with a line break', () => {
    const r = run('require "editheader"; deleteheader "Received"; addheader "Received" "forged";', { headers }, {}, ['editheader']);
    expect(r.headers).toBeUndefined();
    expect(r.notes).toHaveLength(2);
    const bad = run('require ["editheader", "variables"]; set "v" text:\nline1\nline2\n.\n; addheader "X-A" "${v}";', { headers }, {}, ['editheader']);
    expect(bad.errors[0]).toMatch(/line breaks/);
  });
});
