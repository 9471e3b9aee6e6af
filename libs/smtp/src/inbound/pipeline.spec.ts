import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_SMTP_SETTINGS, SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { senderBlocked } from './checks/sender-blocklist.check';
import { ipInList } from './ip-list';
import {
  AUTH_CHECKS, AuthInput, Check, CONNECT_CHECKS, MAIL_CHECKS, PolicyDeps, RCPT_CHECKS, RcptInput, runStage,
} from './pipeline';
import type { AuthenticatedUser, ExpansionSender, RecipientExpansion, RecipientResolution } from './ports';
import { newSession } from './session';
import { ACCEPT, CONTINUE, reject } from './verdict';

const alice: AuthenticatedUser = { mailboxId: 'm-alice', address: 'alice@acme.test', tenantId: 't', domainId: 'd', domain: 'acme.test', mayRelay: true };

function deps(over: Partial<PolicyDeps> = {}): PolicyDeps {
  return {
    directory: {
      resolveRecipient: async (address) => directory[address] ?? { kind: 'remote', address, domain: address.split('@')[1] },
      resolveSender: async (address, mailboxId) => (address.endsWith('@acme.test') ? { local: true, owned: mailboxId === 'm-alice' && address === 'alice@acme.test' } : { local: false, owned: false }),
      sendAllowance: async () => ({ limit: 2, sentToday: 2 }),
      expandRecipient: async (address, sender) => expansions[address]?.(sender) ?? { mailboxes: [], remotes: 0, failures: [{ address, status: '5.1.1', reason: 'no such mailbox' }] },
    },
    limiter: { admit: vi.fn(async () => ({ admitted: true as const, release: async () => undefined })) },
    authenticator: {
      authenticate: async (u, p) => (p === 'right' ? { ok: true, user: alice } : p === 'slow' ? { ok: false, reason: 'throttled', retryAfterMs: 4200 } : { ok: false, reason: 'invalid' }),
      resolveLogin: async (u) => (u.includes('@') ? u : `${u}@acme.test`),
    },
    resolver: { hasMailHost: async (d) => (d === 'nx.test' ? 'no' : d === 'servfail.test' ? 'unknown' : 'yes') },
    hostname: 'mx.dizi.test',
    authFailureDelayMs: 10,
    tarpitStepMs: 100,
    ...over,
  };
}

const directory: Record<string, RecipientResolution> = {
  'alice@acme.test': { kind: 'local', target: 'mailbox', address: 'alice@acme.test', domain: 'acme.test', tenantId: 't', mailbox: { id: 'm', quotaBytes: 1000, usedBytes: 400 } },
  'full@acme.test': { kind: 'local', target: 'mailbox', address: 'full@acme.test', domain: 'acme.test', tenantId: 't', mailbox: { id: 'f', quotaBytes: 1000, usedBytes: 1000 } },
  'sales@acme.test': { kind: 'local', target: 'alias', address: 'sales@acme.test', domain: 'acme.test', tenantId: 't' },
  'gone@acme.test': { kind: 'unavailable', address: 'gone@acme.test', domain: 'acme.test', reason: 'mailbox-suspended' },
  'team@acme.test': { kind: 'local', target: 'group', address: 'team@acme.test', domain: 'acme.test', tenantId: 't' },
  'tofull@acme.test': { kind: 'local', target: 'alias', address: 'tofull@acme.test', domain: 'acme.test', tenantId: 't' },
  'toaway@acme.test': { kind: 'local', target: 'alias', address: 'toaway@acme.test', domain: 'acme.test', tenantId: 't' },
  'out@acme.test': { kind: 'local', target: 'alias', address: 'out@acme.test', domain: 'acme.test', tenantId: 't' },
};

/** What delivery would make of the local aliases and groups above. */
const expansions: Record<string, (sender: ExpansionSender) => RecipientExpansion> = {
  'sales@acme.test': () => ({ mailboxes: [{ address: 'alice@acme.test', quotaBytes: 1_000_000, usedBytes: 400 }], remotes: 0, failures: [] }),
  // members only: alice and bob
  'team@acme.test': (s) => (['alice@acme.test', 'bob@acme.test'].includes(s.address)
    ? { mailboxes: [{ address: 'alice@acme.test', quotaBytes: 1000, usedBytes: 0 }], remotes: 0, failures: [] }
    : { mailboxes: [], remotes: 0, failures: [{ address: 'team@acme.test', status: '5.7.1', reason: 'the sender may not post to the group (policy members)' }] }),
  'tofull@acme.test': () => ({ mailboxes: [{ address: 'full@acme.test', quotaBytes: 1000, usedBytes: 1000 }, { address: 'half@acme.test', quotaBytes: 1000, usedBytes: 500 }], remotes: 0, failures: [] }),
  'toaway@acme.test': () => ({ mailboxes: [], remotes: 0, failures: [{ address: 'away@acme.test', status: '5.2.1', reason: 'the mailbox is disabled' }] }),
  'out@acme.test': () => ({ mailboxes: [], remotes: 1, failures: [{ address: 'away@acme.test', status: '5.2.1', reason: 'the mailbox is disabled' }] }),
};

const settings = (over: Partial<SmtpSettings> = {}): SmtpSettings => ({ ...DEFAULT_SMTP_SETTINGS, ...over });
const session = (user: AuthenticatedUser | null = null) => {
  const s = newSession('s1', 'mx', '192.0.2.1', '[192.0.2.1]', 0);
  s.user = user;
  s.helo = 'client.test';
  s.transaction = { mailFrom: 'x@remote.test', declaredSize: null, recipients: [], refused: [] };
  return s;
};
const rcpt = (recipient: string, o: { user?: AuthenticatedUser | null; declaredSize?: number | null; s?: SmtpSettings; d?: PolicyDeps; sess?: ReturnType<typeof session> } = {}): RcptInput => {
  const d = o.d ?? deps();
  return { session: o.sess ?? session(o.user ?? null), settings: o.s ?? settings(), deps: d, recipient, declaredSize: o.declaredSize ?? null, resolution: () => d.directory.resolveRecipient(recipient) };
};
const line = (v: Awaited<ReturnType<typeof runStage>>) => (v.kind === 'reject' || v.kind === 'defer' ? `${v.code} ${v.enhanced}` : v.kind);

describe('runStage', () => {
  it('stops at the first verdict other than continue and names the check', async () => {
    const third = { name: 'third', run: vi.fn(() => CONTINUE) };
    const checks: Check<null>[] = [{ name: 'first', run: () => CONTINUE }, { name: 'second', run: () => reject(550, '5.7.1', 'no') }, third];
    expect(await runStage(checks, null)).toMatchObject({ kind: 'reject', code: 550, check: 'second' });
    expect(third.run).not.toHaveBeenCalled();
    expect(await runStage([{ name: 'a', run: () => ACCEPT }, third], null)).toMatchObject({ kind: 'accept', check: 'a' });
    expect(await runStage([], null)).toEqual(ACCEPT);
  });
});

describe('connect', () => {
  it('matches addresses and CIDR ranges, IPv4-mapped IPv6 included', () => {
    expect(ipInList('10.1.2.3', ['10.0.0.0/8'])).toBe(true);
    expect(ipInList('::ffff:10.1.2.3', ['10.0.0.0/8'])).toBe(true);
    expect(ipInList('2001:db8::5', ['2001:db8::/32'])).toBe(true);
    expect(ipInList('11.0.0.1', ['10.0.0.0/8', 'not an ip'])).toBe(false);
  });

  it('refuses block-listed clients, and the allow list skips the connection limits', async () => {
    const d = deps();
    const s = session();
    expect(line(await runStage(CONNECT_CHECKS, { session: s, settings: settings({ ipBlockList: ['192.0.2.0/24'] }), deps: d }))).toBe('554 5.7.1');
    expect(line(await runStage(CONNECT_CHECKS, { session: s, settings: settings({ ipBlockList: ['192.0.2.0/24'], ipAllowList: ['192.0.2.1'] }), deps: d }))).toBe('accept');
    expect(d.limiter.admit).not.toHaveBeenCalled();
    const limited = deps({ limiter: { admit: async () => ({ admitted: false, reason: 'concurrent' }) } });
    expect(line(await runStage(CONNECT_CHECKS, { session: s, settings: settings(), deps: limited }))).toBe('421 4.7.0');
  });
});

describe('AUTH', () => {
  const auth = (password: string, authzid = '', s = session(), st = settings({ maxAuthFailures: 2 })): AuthInput => ({ session: s, settings: st, deps: deps(), username: 'alice@acme.test', password, authzid });

  it('accepts the right password and sets the user; the own login name as authzid is fine', async () => {
    const input = auth('right', 'alice');
    expect(line(await runStage(AUTH_CHECKS, input))).toBe('accept');
    expect(input.user).toEqual(alice);
  });

  it('refuses another authorisation identity, counts it as a failure and cuts off at the limit with growing delays', async () => {
    const s = session();
    const first = await runStage(AUTH_CHECKS, auth('right', 'bob@acme.test', s));
    expect(first).toMatchObject({ code: 535, enhanced: '5.7.8', delayMs: 10 });
    const second = await runStage(AUTH_CHECKS, auth('wrong', '', s));
    expect(second).toMatchObject({ code: 421, enhanced: '4.7.0', delayMs: 20 });
    expect(line(await runStage(AUTH_CHECKS, auth('right', '', s)))).toBe('421 4.7.0');
  });

  it('answers a throttled account 454 without counting it', async () => {
    const s = session();
    expect(await runStage(AUTH_CHECKS, auth('slow', '', s))).toMatchObject({ code: 454, enhanced: '4.7.0', text: 'Too many failed logins, try again in 5 seconds' });
    expect(s.authFailures).toBe(0);
  });
});

describe('MAIL FROM', () => {
  const mail = (sender: string, o: { user?: AuthenticatedUser | null; s?: SmtpSettings; declaredSize?: number | null } = {}) =>
    runStage(MAIL_CHECKS, { session: session(o.user ?? null), settings: o.s ?? settings(), deps: deps(), sender, declaredSize: o.declaredSize ?? null });

  it('matches sender block list patterns', () => {
    const list = ['@spam.test', 'spam@x.test', 'news-*@y.test'];
    expect(senderBlocked('a@spam.test', list)).toBe(true);
    expect(senderBlocked('a@sub.spam.test', list)).toBe(false);
    expect(senderBlocked('SPAM@x.test', list)).toBe(true);
    expect(senderBlocked('ham@x.test', list)).toBe(false);
    expect(senderBlocked('news-1@y.test', list)).toBe(true);
    expect(senderBlocked('', list)).toBe(false);
  });

  it('decides in the written order', async () => {
    expect(line(await mail('a@remote.test'))).toBe('accept');
    expect(line(await mail('', { s: settings({ allowNullSender: false }) }))).toBe('550 5.7.1');
    expect(line(await mail('a@remote.test', { declaredSize: DEFAULT_SMTP_SETTINGS.maxMessageBytes + 1 }))).toBe('552 5.3.4');
    expect(line(await mail('bob@acme.test'))).toBe('550 5.7.1');
    expect(line(await mail('bob@acme.test', { user: alice }))).toBe('553 5.7.1');
    // signed in: any address not her own, local or not, and the null sender (reject_sender_login_mismatch)
    expect(line(await mail('ceo@bigbank.example', { user: alice }))).toBe('553 5.7.1');
    expect(line(await mail('', { user: alice }))).toBe('553 5.7.1');
    expect(line(await mail('a@nx.test', { s: settings({ requireResolvableSenderDomain: true }) }))).toBe('550 5.1.8');
    expect(line(await mail('a@servfail.test', { s: settings({ requireResolvableSenderDomain: true }) }))).toBe('450 4.1.8');
    // alice owns her address, but has used up today's sends
    expect(line(await mail('alice@acme.test', { user: alice }))).toBe('450 4.7.1');
  });
});

describe('RCPT TO', () => {
  it('relays only for users allowed to, and then skips the local checks', async () => {
    expect(line(await runStage(RCPT_CHECKS, rcpt('x@remote.test')))).toBe('554 5.7.1');
    expect(line(await runStage(RCPT_CHECKS, rcpt('x@remote.test', { user: { ...alice, mayRelay: false } })))).toBe('554 5.7.1');
    expect(line(await runStage(RCPT_CHECKS, rcpt('x@remote.test', { user: alice })))).toBe('accept');
  });

  it('answers every unavailable address alike and tarpits past the allowance', async () => {
    const sess = session();
    const s = settings({ maxUnknownRecipients: 2 });
    const verdicts = [];
    for (const a of ['gone@acme.test', 'gone@acme.test', 'gone@acme.test', 'gone@acme.test']) verdicts.push(await runStage(RCPT_CHECKS, rcpt(a, { sess, s })));
    expect(verdicts.map((v) => [line(v), 'delayMs' in v ? (v.delayMs ?? 0) : 0])).toEqual([['550 5.1.1', 0], ['550 5.1.1', 0], ['550 5.1.1', 100], ['421 4.7.0', 200]]);
  });

  it('decides quota for mailboxes only, and counts recipients', async () => {
    expect(line(await runStage(RCPT_CHECKS, rcpt('full@acme.test')))).toBe('452 4.2.2');
    expect(line(await runStage(RCPT_CHECKS, rcpt('alice@acme.test', { declaredSize: 700 })))).toBe('452 4.2.2');
    expect(line(await runStage(RCPT_CHECKS, rcpt('alice@acme.test', { declaredSize: 1001 })))).toBe('552 5.2.2');
    expect(line(await runStage(RCPT_CHECKS, rcpt('alice@acme.test', { declaredSize: 600 })))).toBe('accept');
    expect(line(await runStage(RCPT_CHECKS, rcpt('sales@acme.test', { declaredSize: 5000 })))).toBe('accept');
    const sess = session();
    sess.transaction!.recipients.push({ address: 'a@acme.test', kind: 'local', domain: 'acme.test', tenantId: 't', dsnNotify: null, originalAddress: null });
    expect(line(await runStage(RCPT_CHECKS, rcpt('alice@acme.test', { sess, s: settings({ maxRecipients: 1 }) })))).toBe('452 4.5.3');
  });

  it('refuses at RCPT what delivering to an alias or group would refuse, instead of bouncing it later', async () => {
    const as = (mailFrom: string) => {
      const sess = session();
      sess.transaction!.mailFrom = mailFrom;
      return sess;
    };
    expect(line(await runStage(RCPT_CHECKS, rcpt('team@acme.test', { sess: as('x@remote.test') })))).toBe('550 5.7.1');
    expect(line(await runStage(RCPT_CHECKS, rcpt('team@acme.test', { sess: as('bob@acme.test') })))).toBe('accept');
    expect(line(await runStage(RCPT_CHECKS, rcpt('toaway@acme.test')))).toBe('550 5.1.1');
    // one of two mailboxes has room: taken; the message would fit neither: 452; can never fit: 552
    expect(line(await runStage(RCPT_CHECKS, rcpt('tofull@acme.test')))).toBe('accept');
    expect(line(await runStage(RCPT_CHECKS, rcpt('tofull@acme.test', { declaredSize: 600 })))).toBe('452 4.2.2');
    expect(line(await runStage(RCPT_CHECKS, rcpt('tofull@acme.test', { declaredSize: 1001 })))).toBe('552 5.2.2');
    // something deliverable (a remote forward) remains: taken, the failure is delivery's to note
    expect(line(await runStage(RCPT_CHECKS, rcpt('out@acme.test')))).toBe('accept');
  });
});
