// The same scripts through Dovecot Pigeonhole's sieve-test (Debian dovecot-sieve) and through libs/sieve: same actions.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SieveResult } from '../src/message';
import { parseSieve, runSieve } from '../src/sieve';
import { testMessage } from './sieve-message';

const SIEVE_TEST = '/usr/bin/sieve-test';
const HEADERS = 'From: "A B" <a@b.test>\r\nTo: user@example.com, other@example.com\r\nSubject: [acme-users] [fwd] version 1.0\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\nMessage-ID: <1@b.test>';
const BODY = 'hello\r\n';

const SCRIPTS: Record<string, string> = {
  'match variables, flags, :copy and redirect': `require ["fileinto", "variables", "imap4flags", "copy"];
    if header :matches "Subject" "[*] *" { fileinto "lists.\${1}"; }
    addflag "\\\\Seen"; fileinto :copy "archive"; redirect "a@x.test";`,
  'keep and fileinto INBOX store once': 'require ["fileinto"]; keep; fileinto "INBOX"; fileinto "a"; fileinto "a";',
  'set modifiers': 'require ["variables", "fileinto"]; set "a" "juMBlEd lETteRS"; set :upperfirst :lower "b" "${a}"; set :length "c" "${a}"; set :quotewildcard "d" "Rock*"; fileinto "${b}-${c}-${d}";',
  'relational :count on addresses': 'require ["fileinto", "relational", "comparator-i;ascii-numeric"]; if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "2" { fileinto "many"; }',
  'subaddress with an empty detail': 'require ["envelope", "subaddress", "fileinto"]; if envelope :detail "to" "" { fileinto "emptydetail"; } elsif envelope :user "to" "user" { fileinto "user"; }',
  'discard then keep': 'discard; keep;',
  'address :matches captures': 'require ["fileinto", "variables"]; if address :matches "From" "*@*" { fileinto "${2}|${1}|${0}"; }',
  'regex groups': 'require ["regex", "variables", "fileinto"]; if header :regex "subject" "\\\\[([a-z-]+)\\\\]" { fileinto "r-${1}"; }',
  'date std11 in the original zone': 'require ["fileinto", "date", "variables"]; if date :originalzone :matches "date" "std11" "*" { fileinto "${1}"; }',
  'reject conflicts with fileinto': 'require ["reject", "fileinto"]; fileinto "a"; reject "no";',
  'vacation and implicit keep': 'require ["vacation"]; vacation :days 3 "away";',
  'stop keeps implicitly': 'require "fileinto"; stop; fileinto "never";',
  'body :text': 'require ["body", "fileinto"]; if body :text :contains "HELLO" { fileinto "b"; }',
  'i;octet is case-sensitive': 'require "fileinto"; if header :contains :comparator "i;octet" "subject" "ACME" { fileinto "oct"; } else { fileinto "nooct"; }',
  'header :count': 'require ["fileinto", "relational", "comparator-i;ascii-numeric"]; if header :count "eq" :comparator "i;ascii-numeric" "subject" "1" { fileinto "one"; }',
  'the same redirect twice, then keep': 'redirect "a@x.test"; redirect "a@x.test"; keep;',
  'allof, exists, size': 'require "fileinto"; if allof (exists ["from", "date"], not exists "x-nope", size :under 1M) { fileinto "ok"; }',
  'envelope :localpart': 'require ["envelope", "fileinto", "variables"]; if envelope :localpart :matches "from" "*" { fileinto "lp-${1}"; }',
  'encoded characters': 'require ["encoded-character", "fileinto"]; fileinto "${hex:61 62}${unicode:20AC}";',
  'keep :flags': 'require ["imap4flags"]; keep :flags ["\\\\Seen", "$Label1"];',
  'setflag and hasflag': 'require ["imap4flags", "fileinto"]; setflag "a b"; if hasflag :is "b" { fileinto "hasb"; }',
  'string test on a match variable': 'require ["fileinto", "variables"]; if header :matches "subject" "*" { set :lower "s" "${0}"; } if string :contains "${s}" "acme" { fileinto "str"; }',
  'address :domain ignores case': 'require "fileinto"; if address :domain :is "to" "EXAMPLE.com" { fileinto "dom"; }',
  '"*?*" captures': 'require ["fileinto", "variables"]; if header :matches "subject" "*?*" { fileinto "${1}|${2}"; }',
  'date :value': 'require ["fileinto","date","relational"]; if date :value "lt" :originalzone "date" "hour" "11" { fileinto "morning"; }',
  'empty keys against present and absent headers': 'require "fileinto"; if header :is "subject" "" { fileinto "empty"; } if header :contains "x-none" "" { fileinto "absent"; }',
  'unknown variables and ${00}': 'require ["fileinto","variables"]; set "x" "${unknown}a"; fileinto "${x}${00}";',
};

const available = existsSync(SIEVE_TEST);
const dir = mkdtempSync(join(tmpdir(), 'dizi-pigeonhole-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Pigeonhole refuses to run as root: run it as nobody with a minimal configuration. */
function pigeonhole(script: string, recipient: string): string[] {
  writeFileSync(join(dir, 'dovecot.conf'), `base_dir = ${dir}/run\nmail_location = maildir:${dir}/mail\n`);
  writeFileSync(join(dir, 'script.sieve'), script);
  writeFileSync(join(dir, 'message.eml'), `${HEADERS}\r\n\r\n${BODY}`);
  chmodSync(dir, 0o777);
  const args = ['-c', join(dir, 'dovecot.conf'), '-f', 'sender@example.org', '-r', recipient, join(dir, 'script.sieve'), join(dir, 'message.eml')];
  const asNobody = process.getuid?.() === 0 ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', SIEVE_TEST, ...args]] : [SIEVE_TEST, args];
  let out: string;
  try {
    out = execFileSync(asNobody[0] as string, asNobody[1] as string[], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir, USER: 'nobody' }, timeout: 20_000 });
  } catch (error: any) {
    const text = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    if (/conflicts with other action/.test(text)) return ['error'];
    throw error;
  }
  const actions: string[] = [];
  for (const line of out.split('\n')) {
    const store = /^ \* store message in folder: (.*)$/.exec(line);
    if (store) actions.push(`store:${store[1]}`);
    const redirect = /^ \* redirect message to: <(.*)>$/.exec(line);
    if (redirect) actions.push(`redirect:${redirect[1]}`);
    if (/^ \* send vacation message/.test(line)) actions.push('vacation');
    const flags = /^\s+\+ add IMAP flags: (.*)$/.exec(line);
    if (flags) actions.push(`${actions.pop()} flags:${flags[1].toLowerCase().split(' ').sort().join(' ')}`);
  }
  return actions.sort();
}

function ours(result: SieveResult): string[] {
  if (result.errors.length) return ['error'];
  return result.actions
    .map((a) => {
      if (a.type !== 'keep' && a.type !== 'fileinto') return a.type === 'redirect' ? `redirect:${a.address}` : a.type;
      const store = `store:${a.type === 'keep' ? 'INBOX' : a.mailbox}`;
      return a.flags.length ? `${store} flags:${a.flags.map((f) => f.toLowerCase()).sort().join(' ')}` : store;
    })
    .sort();
}

describe.skipIf(!available)('libs/sieve against Dovecot Pigeonhole (sieve-test)', () => {
  it.each(Object.entries(SCRIPTS))('%s', (_name, script) => {
    const recipient = script.includes('subaddress') ? 'user+@example.com' : 'user@example.com';
    const message = testMessage({ headers: HEADERS, body: BODY, from: 'sender@example.org', to: recipient });
    const mine = ours(runSieve(parseSieve(script), message, { zone: '+0000' }));
    expect(mine).toEqual(pigeonhole(script, recipient));
    expect(mine.length).toBeGreaterThan(0);
  });
});
