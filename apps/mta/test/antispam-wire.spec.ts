/**
 * The reputation checks of MX clients through a whole node (smtp + delivery roles) whose DNS is a real unbound serving
 * DNS block and allow lists, a domain list and PTR records, with a raw SMTP client and swaks: a listed client address
 * refused at connect naming the list or scored into Junk, an allowlist overriding a block list, a listed sender domain
 * refused at MAIL, HELO and reverse-DNS checks, and greylisting (451 4.7.1, then accepted once the injected clock has
 * passed the delay; auto-pass of a network; signed-in users exempt), the automatic whitelist, and a real rspamd as the
 * spam scanner.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { type Rspamd, SPAM_MARKER, SPAM_MARKER_RULE, SPAM_MARKER_SCORE, startRspamd } from '@dizi/testing/scanner-daemons';
import { startUnbound, type Unbound } from '@dizi/testing/unbound';
import { until } from '@dizi/testing/until';
import { startTestNode, storedCopies, TEST_MAILBOX_PASSWORD, type TestNode } from './harness';
import { SmtpTalk } from './smtp-talk';

const run = promisify(execFile);
const ROOMY = { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 1000, mailAuthEnabled: false, greetingDelayMs: 0 };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

let dns: Unbound;
let node: TestNode;
let clock = Date.UTC(2026, 11, 1, 12, 0, 0);
let counter = 0;
const sql = (text: string, params?: unknown[]) => node.db.dataSource.query(text, params);

async function settings(patch: Partial<SmtpSettings> = {}): Promise<void> {
  await sql(`UPDATE system_setting SET value = '{}'::jsonb WHERE key = 'smtp'`);
  await node.setSettings({ ...ROOMY, ...patch });
}

function message(from: string, subject: string): string {
  return [
    `From: <${from}>`, 'To: alice@acme.test', `Subject: ${subject}`, `Date: ${new Date().toUTCString()}`,
    `Message-ID: <as${++counter}.${Date.now()}@example.test>`, '', 'Hello there.', '',
  ].join('\r\n');
}

/** One transaction over a raw connection; every reply on the way. */
async function send(o: { helo?: string; from: string; to?: string }): Promise<{ greeting: string; helo?: string; mail?: string; rcpt?: string; data?: string }> {
  const talk = await SmtpTalk.open(node.ports.smtp);
  const out: { greeting: string; helo?: string; mail?: string; rcpt?: string; data?: string } = { greeting: talk.greeting.line };
  try {
    if (talk.greeting.code !== 220) return out;
    out.helo = (await talk.cmd(`EHLO ${o.helo ?? 'mail.sender.test'}`)).line;
    const mail = await talk.cmd(`MAIL FROM:<${o.from}>`);
    out.mail = mail.line;
    if (mail.code !== 250) return out;
    const rcpt = await talk.cmd(`RCPT TO:<${o.to ?? 'alice@acme.test'}>`);
    out.rcpt = rcpt.line;
    if (rcpt.code !== 250) return out;
    out.data = (await talk.data(message(o.from, `test ${counter}`))).line;
    return out;
  } finally {
    await talk.quit();
  }
}

const delivered = async (spoolId: string) => (await storedCopies(node, spoolId))[0];

const spoolId = (reply?: string) => (reply ? (new RegExp(`queued as (${UUID.source})`).exec(reply)?.[1] ?? null) : null);

beforeAll(async () => {
  dns = await startUnbound(
    [
      // The test client, 127.0.0.1, is on bl.test and wl.test, not on clean.test.
      { name: '1.0.0.127.bl.test', type: 'A', value: '127.0.0.2' },
      { name: '1.0.0.127.bl.test', type: 'TXT', value: 'listed for testing' },
      { name: '1.0.0.127.wl.test', type: 'A', value: '127.0.10.2' },
      { name: '2.0.0.127.clean.test', type: 'A', value: '127.0.0.2' },
      // A list answering something that is not a listing (a redirecting resolver).
      { name: '1.0.0.127.odd.test', type: 'A', value: '192.0.2.1' },
      // Sender domains on the domain list.
      { name: 'spammer.test.rhs.test', type: 'A', value: '127.0.1.2' },
      // 127.0.0.1's PTR names a host whose address is another one.
      { name: '1.0.0.127.in-addr.arpa', type: 'PTR', value: 'host.client.test.' },
      { name: 'host.client.test', type: 'A', value: '192.0.2.99' },
    ],
    ['bl.test', 'wl.test', 'clean.test', 'odd.test', 'rhs.test', 'client.test', '0.0.127.in-addr.arpa'],
  );
  node = await startTestNode({ roles: ['smtp', 'delivery'], settings: ROOMY, env: { DNS_SERVERS: dns.server }, smtp: { now: () => clock } });
  const acme = await node.seed.tenant('acme');
  const d = await node.seed.domain(acme.id, 'acme.test', { isDefault: true });
  await node.seed.mailbox(d.id, 'alice');
  await node.seed.mailbox(d.id, 'bob');
});

afterAll(async () => {
  await node?.close();
  await dns?.stop();
});

describe('DNS block and allow lists (unbound)', () => {
  it('refuses a client address on a reject list at connect with 554 naming the list, and spools nothing', async () => {
    await settings({ dnsLists: [{ zone: 'clean.test', type: 'ip', action: 'reject', weight: 0, answers: [] }, { zone: 'bl.test', type: 'ip', action: 'reject', weight: 0, answers: [] }] });
    const before = Number((await sql(`SELECT coalesce(max(id), 0) AS id FROM mail_log`))[0].id);
    const spooled = Number((await sql(`SELECT count(*)::int AS n FROM spool_message`))[0].n);
    const r = await send({ from: 'pat@sender.test' });
    expect(r.greeting).toBe('554 5.7.1 Service unavailable; client host [127.0.0.1] blocked using bl.test');
    expect(r.mail).toBeUndefined();
    const log = await until('the session row', async () =>
      (await sql(`SELECT result, reason FROM mail_log WHERE kind = 'session' AND result = 'refused' AND id > $1`, [before]))[0]);
    expect(log.reason).toBe('connect: 554 5.7.1 Service unavailable; client host [127.0.0.1] blocked using bl.test');
    expect(Number((await sql(`SELECT count(*)::int AS n FROM spool_message`))[0].n)).toBe(spooled);
  });

  it('accepts a client not listed, and one on a list whose answer is not a 127.0.0.0/8 listing', async () => {
    await settings({ dnsLists: [{ zone: 'clean.test', type: 'ip', action: 'reject', weight: 0, answers: [] }, { zone: 'odd.test', type: 'ip', action: 'reject', weight: 0, answers: [] }] });
    const r = await send({ from: 'pat@sender.test' });
    expect(r.data).toMatch(/^250 /);
    expect((await delivered(spoolId(r.data)!)).special_use).toBe('inbox');
  });

  it('only counts the answers a list is configured for', async () => {
    await settings({ dnsLists: [{ zone: 'bl.test', type: 'ip', action: 'reject', weight: 0, answers: ['127.0.0.4'] }] });
    expect((await send({ from: 'pat@sender.test' })).data).toMatch(/^250 /);
  });

  it('scores a listed client with the list\'s weight: over the Junk threshold the message goes to Junk, flagged', async () => {
    await settings({ dnsLists: [{ zone: 'bl.test', type: 'ip', action: 'score', weight: 8, answers: [] }] });
    const r = await send({ from: 'pat@sender.test' });
    expect(r.data).toMatch(/^250 /);
    const copy = await delivered(spoolId(r.data)!);
    expect(copy.special_use).toBe('junk');
    expect(copy.header_prefix).toContain('X-Spam-Flag: YES\r\n');
    expect(copy.header_prefix).toContain('X-Spam-Score: 8.0\r\n');
    expect(copy.header_prefix).toMatch(/X-Spam-Status: Yes, score=8\.0 required=5\.0 tests=DIZI_dnsbl:bl\.test\r\n/);
  });

  it('tags between the tag and Junk thresholds (INBOX, flagged), and a per-domain override moves the Junk threshold', async () => {
    await settings({ dnsLists: [{ zone: 'bl.test', type: 'ip', action: 'score', weight: 6, answers: [] }] });
    const tagged = await send({ from: 'pat@sender.test' });
    const copy = await delivered(spoolId(tagged.data)!);
    expect(copy.special_use).toBe('inbox');
    expect(copy.header_prefix).toContain('X-Spam-Flag: YES\r\n');
    await settings({ dnsLists: [{ zone: 'bl.test', type: 'ip', action: 'score', weight: 6, answers: [] }], antispamDomainOverrides: { 'acme.test': { junkScore: 5.5 } } });
    const junked = await send({ from: 'pat@sender.test' });
    expect((await delivered(spoolId(junked.data)!)).special_use).toBe('junk');
    await settings({ dnsLists: [{ zone: 'bl.test', type: 'ip', action: 'score', weight: 6, answers: [] }], antispamDomainOverrides: { 'acme.test': { rejectScore: 6 } } });
    expect((await send({ from: 'pat@sender.test' })).data).toBe('550 5.7.1 Message rejected as spam');
  });

  it('lets an allowlist (DNSWL) exempt a client from a block list, its negative weight added', async () => {
    await settings({
      dnsLists: [
        { zone: 'bl.test', type: 'ip', action: 'reject', weight: 0, answers: [] },
        { zone: 'wl.test', type: 'ip', action: 'allow', weight: -2, answers: [] },
      ],
    });
    const r = await send({ from: 'pat@sender.test' });
    expect(r.greeting).toMatch(/^220 /);
    const copy = await delivered(spoolId(r.data)!);
    expect(copy.special_use).toBe('inbox');
    expect(copy.header_prefix).toMatch(/X-Spam-Score: -2\.0\r\n/);
  });

  it('refuses a sender domain on a domain list (RHSBL) at MAIL with 550 naming the list; other domains pass', async () => {
    await settings({ dnsLists: [{ zone: 'rhs.test', type: 'domain', action: 'reject', weight: 0, answers: [] }] });
    const r = await send({ from: 'boss@spammer.test' });
    expect(r.mail).toBe('550 5.7.1 Sender domain spammer.test rejected: listed by rhs.test');
    expect((await send({ from: 'pat@sender.test' })).data).toMatch(/^250 /);
  });

  it('scores a sender domain on a domain list per message', async () => {
    await settings({ dnsLists: [{ zone: 'rhs.test', type: 'domain', action: 'score', weight: 7.5, answers: [] }] });
    const r = await send({ from: 'boss@spammer.test' });
    const copy = await delivered(spoolId(r.data)!);
    expect(copy.special_use).toBe('junk');
    expect(copy.header_prefix).toContain('DIZI_rhsbl:rhs.test');
  });
});

describe('HELO and reverse DNS checks', () => {
  it('refuses a bare IP or address-literal HELO when set to reject, and a name without a dot', async () => {
    await settings({ heloBareIpAction: 'reject', heloNotFqdnAction: 'reject' });
    expect((await send({ helo: '[127.0.0.1]', from: 'pat@sender.test' })).mail).toBe('550 5.7.1 HELO/EHLO [127.0.0.1] is an address, not a host name');
    expect((await send({ helo: 'workstation', from: 'pat@sender.test' })).mail).toBe('550 5.7.1 HELO/EHLO workstation: need a fully-qualified host name');
    expect((await send({ helo: 'mail.sender.test', from: 'pat@sender.test' })).data).toMatch(/^250 /);
  });

  it('scores them when set to score, and ignores them when off', async () => {
    await settings({ heloBareIpAction: 'score', heloBareIpScore: 7 });
    const scored = await send({ helo: '[127.0.0.1]', from: 'pat@sender.test' });
    const copy = await delivered(spoolId(scored.data)!);
    expect(copy.special_use).toBe('junk');
    expect(copy.header_prefix).toContain('DIZI_helo_bare_ip');
    await settings({ heloBareIpAction: 'off', heloBareIpScore: 7 });
    const ignored = await send({ helo: '[127.0.0.1]', from: 'pat@sender.test' });
    expect((await delivered(spoolId(ignored.data)!)).header_prefix).not.toContain('X-Spam');
  });

  it('refuses a client whose PTR name does not resolve back to it (5.7.25), through the configured resolver', async () => {
    await settings({ reverseDnsMismatchAction: 'reject' });
    expect((await send({ from: 'pat@sender.test' })).mail).toBe('550 5.7.25 Client host [127.0.0.1]: reverse DNS name host.client.test does not resolve back to it');
    // It has a PTR record: the "no PTR" check finds nothing.
    await settings({ reverseDnsMissingAction: 'reject' });
    expect((await send({ from: 'pat@sender.test' })).data).toMatch(/^250 /);
  });

  it('exempts a client on the operators\' IP allow list', async () => {
    await settings({ reverseDnsMismatchAction: 'reject', heloBareIpAction: 'reject', ipAllowList: ['127.0.0.0/8'] });
    expect((await send({ helo: '[127.0.0.1]', from: 'pat@sender.test' })).data).toMatch(/^250 /);
  });
});

describe('greylisting (injected clock)', () => {
  it('answers 451 4.7.1 to a new triplet, again before the delay, and accepts the retry after it; then the triplet passes at once', async () => {
    await settings({ greylistEnabled: true, greylistDelaySeconds: 300, greylistAutoPassAfter: 0 });
    const first = await send({ from: 'grey1@sender.test' });
    expect(first.rcpt).toBe('451 4.7.1 Greylisted, please try again in 300 seconds');
    clock += 120_000;
    expect((await send({ from: 'grey1@sender.test' })).rcpt).toBe('451 4.7.1 Greylisted, please try again in 180 seconds');
    // Another recipient is another triplet.
    expect((await send({ from: 'grey1@sender.test', to: 'bob@acme.test' })).rcpt).toMatch(/^451 4\.7\.1 Greylisted/);
    clock += 181_000;
    const retry = await send({ from: 'grey1@sender.test' });
    expect(retry.data).toMatch(/^250 /);
    expect((await delivered(spoolId(retry.data)!)).special_use).toBe('inbox');
    clock += 86_400_000;
    expect((await send({ from: 'grey1@sender.test' })).data).toMatch(/^250 /);
  });

  it('forgets a triplet not retried within the retry window', async () => {
    await settings({ greylistEnabled: true, greylistDelaySeconds: 60, greylistRetryWindowHours: 1, greylistAutoPassAfter: 0 });
    expect((await send({ from: 'grey2@sender.test' })).rcpt).toMatch(/^451 /);
    clock += 2 * 3_600_000;
    expect((await send({ from: 'grey2@sender.test' })).rcpt).toBe('451 4.7.1 Greylisted, please try again in 60 seconds');
  });

  it('stops greylisting a network once it passed greylistAutoPassAfter triplets', async () => {
    await settings({ greylistEnabled: true, greylistDelaySeconds: 60, greylistAutoPassAfter: 2 });
    // grey1 passed above (one triplet): one more makes two.
    expect((await send({ from: 'grey3@sender.test' })).rcpt).toMatch(/^451 /);
    clock += 61_000;
    expect((await send({ from: 'grey3@sender.test' })).data).toMatch(/^250 /);
    expect((await send({ from: 'fresh@other.test' })).data).toMatch(/^250 /);
  });

  it('never greylists signed-in users on submission, nor allow-listed clients', async () => {
    await settings({ greylistEnabled: true, greylistDelaySeconds: 60, greylistAutoPassAfter: 0, ipAllowList: ['127.0.0.1'] });
    expect((await send({ from: 'newcomer@elsewhere.test' })).data).toMatch(/^250 /);
    await settings({ greylistEnabled: true, greylistDelaySeconds: 60, greylistAutoPassAfter: 0 });
    const r = await run('swaks', [
      '--server', '127.0.0.1', '--port', String(node.ports.submission), '--tls', '--auth', 'PLAIN',
      '--auth-user', 'alice@acme.test', '--auth-password', TEST_MAILBOX_PASSWORD, '--from', 'alice@acme.test', '--to', 'bob@acme.test',
    ], { encoding: 'utf8' }).catch((e: { stdout?: string }) => e);
    expect(String(r.stdout)).toMatch(/<~ +250 .*queued as/);
  });
});

describe('automatic whitelist', () => {
  it('trusts for alice the addresses she wrote to: their mail is neither put in Junk nor greylisted for her, others\' still is', async () => {
    await settings({ dnsLists: [{ zone: 'bl.test', type: 'ip', action: 'score', weight: 8, answers: [] }] });
    const r = await run('swaks', [
      '--server', '127.0.0.1', '--port', String(node.ports.submission), '--tls', '--auth', 'PLAIN',
      '--auth-user', 'alice@acme.test', '--auth-password', TEST_MAILBOX_PASSWORD, '--from', 'alice@acme.test', '--to', 'Friend@Pen-Pal.test',
    ], { encoding: 'utf8' }).catch((e: { stdout?: string }) => e);
    expect(String(r.stdout)).toMatch(/<~ +250 .*queued as/);
    await until('the whitelist entry', async () =>
      (await sql(`SELECT 1 FROM mailbox_trusted_sender t JOIN mailbox m ON m.id = t.mailbox_id WHERE m.address = 'alice@acme.test' AND t.address = 'friend@pen-pal.test'`))[0]);

    const friend = await send({ from: 'friend@pen-pal.test' });
    const copy = await delivered(spoolId(friend.data)!);
    expect(copy.special_use).toBe('inbox');
    expect(copy.header_prefix).not.toContain('X-Spam-Flag');
    expect(copy.header_prefix).toContain('X-Spam-Score: 8.0');
    // Bob never wrote to the friend: the same message to him goes to Junk.
    const toBob = await send({ from: 'friend@pen-pal.test', to: 'bob@acme.test' });
    expect((await delivered(spoolId(toBob.data)!)).special_use).toBe('junk');
    const stranger = await send({ from: 'stranger@pen-pal.test' });
    expect((await delivered(spoolId(stranger.data)!)).special_use).toBe('junk');

    await settings({ greylistEnabled: true, greylistAutoPassAfter: 0 });
    expect((await send({ from: 'friend@pen-pal.test' })).data).toMatch(/^250 /);
    expect((await send({ from: 'stranger2@pen-pal.test' })).rcpt).toMatch(/^451 4\.7\.1 Greylisted/);
    await settings({ greylistEnabled: true, greylistAutoPassAfter: 0, autoWhitelistEnabled: false });
    expect((await send({ from: 'friend@pen-pal.test' })).rcpt).toMatch(/^451 4\.7\.1 Greylisted/);
  });
});

describe('Rspamd as the spam scanner (real rspamd)', () => {
  let rspamd: Rspamd;
  beforeAll(async () => {
    rspamd = await startRspamd();
  }, 320_000);
  afterAll(async () => {
    await rspamd?.stop();
  });

  it('scores with rspamd when chosen in the settings: its symbols in X-Spam-Status, its score against our thresholds plus the DNS lists\'', async () => {
    const scanner = { antispamEnabled: true, antispamScanner: 'rspamd' as const, rspamdAddress: rspamd.address, antispamRejectScore: 1000, antispamQuarantineScore: 1000 };
    await settings({ ...scanner, dnsLists: [{ zone: 'bl.test', type: 'ip', action: 'score', weight: 3, answers: [] }] });
    const talk = await SmtpTalk.open(node.ports.smtp);
    await talk.cmd('EHLO mail.sender.test');
    expect((await talk.cmd('MAIL FROM:<pat@sender.test>')).code).toBe(250);
    expect((await talk.cmd('RCPT TO:<alice@acme.test>')).code).toBe(250);
    const reply = await talk.data(message('pat@sender.test', 'offer').replace('Hello there.', `Hello there. ${SPAM_MARKER}`));
    await talk.quit();
    expect(reply.line).toMatch(/^250 /);
    const copy = await delivered(spoolId(reply.line)!);
    expect(copy.special_use).toBe('junk');
    const status = /X-Spam-Status: Yes, score=(\d+\.\d) [^\r\n]*(?:\r\n\t[^\r\n]*)*/.exec(copy.header_prefix);
    expect(status?.[0].replace(/\r\n\t/g, '')).toContain(SPAM_MARKER_RULE);
    expect(status?.[0].replace(/\r\n\t/g, '')).toContain('DIZI_dnsbl:bl.test');
    // rspamd's other symbols vary offline (DNS checks that fail at different speeds): only the marker's 20 is certain.
    expect(Number(status?.[1])).toBeGreaterThan(SPAM_MARKER_SCORE);
    // Refused at the reject score, before anything is accepted.
    await settings({ ...scanner, antispamRejectScore: 15 });
    const refused = await SmtpTalk.open(node.ports.smtp);
    await refused.cmd('EHLO mail.sender.test');
    await refused.cmd('MAIL FROM:<pat@sender.test>');
    await refused.cmd('RCPT TO:<alice@acme.test>');
    expect((await refused.data(message('pat@sender.test', 'offer').replace('Hello there.', SPAM_MARKER))).line).toBe('550 5.7.1 Message rejected as spam');
    await refused.quit();
  });
});
