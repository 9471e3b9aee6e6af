/**
 * SPF, DKIM, DMARC and ARC of inbound mail through a whole node (smtp + delivery roles) whose DNS is a real unbound
 * serving the sender domains' records, with swaks and Python smtplib as the clients: Authentication-Results on the
 * delivered copy, incoming A-R claiming our id and X-Spam-* removed, the DMARC policy applied before the final reply
 * (reject → 550 5.7.1, quarantine → Junk), per-domain overrides, trusted ARC sealers, the submission ports left
 * alone, and a DNS that fails giving temperror instead of a crash.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dkimSign, sealMessage } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { startUnbound, type Unbound } from '@dizi/testing/unbound';
import { startTestNode, storedCopies, TEST_MAILBOX_PASSWORD, type TestNode } from './harness';

const run = promisify(execFile);
const HOST = 'mx.dizi.test';
const ROOMY = { connectionsPerIpPerMinute: 100_000, concurrentConnectionsPerIp: 1000 };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
/** Test clients connect from here; only ok.test's SPF lists it. */
const CLIENT_IP = '127.0.0.1';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_KEY = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const PRIVATE_KEY = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let dns: Unbound;
let node: TestNode;
let dir: string;
let counter = 0;
const sql = (text: string, params?: unknown[]) => node.db.dataSource.query(text, params);

function message(from: string, subject: string, extraHeaders: string[] = []): Buffer {
  return Buffer.from(
    [
      ...extraHeaders,
      `From: Pat <${from}>`,
      'To: alice@acme.test',
      `Subject: ${subject}`,
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <auth${++counter}.${Date.now()}@${from.split('@')[1]}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'The quarterly figures are attached.',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

async function signed(raw: Buffer, domain: string): Promise<Buffer> {
  // mailauth signs only what is in signatureData; its index.d.ts types the key as a top-level option.
  const options = { canonicalization: 'relaxed/relaxed', signatureData: [{ signingDomain: domain, selector: 'mail', privateKey: PRIVATE_KEY }] };
  const res = await dkimSign(raw, options as unknown as Parameters<typeof dkimSign>[1]);
  expect(res.errors).toEqual([]);
  return Buffer.concat([Buffer.from(res.signatures), raw]);
}

interface Outcome {
  /** The last reply line swaks read, `550 5.7.1 ...` (without swaks' arrows). */
  reply: string;
  spoolId: string | null;
  output: string;
}

/** One message through swaks to the MX port (or submission with STARTTLS and AUTH). */
async function swaks(data: Buffer, o: { from: string; to?: string; port?: number; auth?: [string, string] } = { from: '' }): Promise<Outcome> {
  const file = join(dir, `m${++counter}.eml`);
  await writeFile(file, data);
  const args = [
    '--server', '127.0.0.1', '--port', String(o.port ?? node.ports.smtp), '--helo', 'client.sender.test',
    '--from', o.from, '--to', o.to ?? 'alice@acme.test', '--data', file, '--suppress-data',
  ];
  if (o.auth) args.push('--tls', '--auth', 'PLAIN', '--auth-user', o.auth[0], '--auth-password', o.auth[1]);
  const r = await run('swaks', args, { encoding: 'utf8' }).catch((e: { stdout?: string }) => e);
  const output = String(r.stdout);
  const replies = [...output.matchAll(/^<(?:-|\*\*) +(\d{3} .*)$/gm)].map((m) => m[1]);
  const afterData = replies.filter((l) => !/^(?:221|354)/.test(l));
  const reply = afterData[afterData.length - 1] ?? '';
  return { reply, spoolId: new RegExp(`queued as (${UUID.source})`).exec(reply)?.[1] ?? null, output };
}

const delivered = async (spoolId: string) => (await storedCopies(node, spoolId))[0];

async function blobOf(spoolId: string): Promise<string> {
  const [m] = await sql(`SELECT blob_hash FROM spool_message WHERE id = $1`, [spoolId]);
  const chunks: Buffer[] = [];
  for await (const c of await node.ctx.blobs.get(m.blob_hash)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

const spoolCount = async () => Number((await sql(`SELECT count(*)::int AS n FROM spool_message`))[0].n);

async function settings(patch: Partial<SmtpSettings> = {}): Promise<void> {
  await sql(`UPDATE system_setting SET value = '{}'::jsonb WHERE key = 'smtp'`);
  await node.setSettings({ ...ROOMY, ...patch });
}

/** The Authentication-Results field in a header prefix, unfolded. */
function authResults(prefix: string): string {
  const m = /^Authentication-Results: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*/m.exec(prefix);
  return m ? m[0].replace(/\r\n[ \t]+/g, ' ') : '';
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dizi-mailauth-'));
  dns = await startUnbound(
    [
      // Signs its mail; its SPF lists no address the tests send from.
      { name: 'signed.test', type: 'TXT', value: 'v=spf1 ip4:192.0.2.10 -all' },
      { name: 'mail._domainkey.signed.test', type: 'TXT', value: `v=DKIM1; k=rsa; p=${PUBLIC_KEY}` },
      { name: '_dmarc.signed.test', type: 'TXT', value: 'v=DMARC1; p=reject' },
      // Its SPF lists the test client: aligned through SPF.
      { name: 'ok.test', type: 'TXT', value: `v=spf1 ip4:${CLIENT_IP} -all` },
      { name: '_dmarc.ok.test', type: 'TXT', value: 'v=DMARC1; p=reject' },
      // Unsigned, SPF fails: p=reject and p=quarantine.
      { name: 'bank.test', type: 'TXT', value: 'v=spf1 ip4:192.0.2.20 -all' },
      { name: '_dmarc.bank.test', type: 'TXT', value: 'v=DMARC1; p=reject' },
      { name: 'shop.test', type: 'TXT', value: 'v=spf1 ip4:192.0.2.30 -all' },
      { name: '_dmarc.shop.test', type: 'TXT', value: 'v=DMARC1; p=quarantine' },
      // A mailing list that reseals (ARC) what it forwards.
      { name: 'list.test', type: 'TXT', value: `v=spf1 ip4:${CLIENT_IP} -all` },
      { name: 'arc._domainkey.list.test', type: 'TXT', value: `v=DKIM1; k=rsa; p=${PUBLIC_KEY}` },
      // Our own domain publishes p=reject too: its users send through submission.
      { name: 'acme.test', type: 'TXT', value: 'v=spf1 ip4:192.0.2.40 -all' },
      { name: '_dmarc.acme.test', type: 'TXT', value: 'v=DMARC1; p=reject' },
    ],
    ['signed.test', 'ok.test', 'bank.test', 'shop.test', 'list.test', 'acme.test', 'sender.test'],
  );
  node = await startTestNode({ roles: ['smtp', 'delivery'], settings: ROOMY, env: { DNS_SERVERS: dns.server } });
  const acme = await node.seed.tenant('acme');
  const d = await node.seed.domain(acme.id, 'acme.test', { isDefault: true });
  await node.seed.mailbox(d.id, 'alice');
  await node.seed.mailbox(d.id, 'bob');
});

afterAll(async () => {
  await node?.close();
  await dns?.stop();
});

describe('Authentication-Results on MX mail (swaks, unbound)', () => {
  it('delivers signed, aligned mail to INBOX with dkim=pass and dmarc=pass under our authserv-id', async () => {
    await settings();
    const r = await swaks(await signed(message('pat@signed.test', 'signed and aligned'), 'signed.test'), { from: 'pat@signed.test' });
    expect(r.reply, r.output).toMatch(/^250 2\.6\.0 Ok: queued as/);
    const copy = await delivered(r.spoolId!);
    expect(copy.special_use).toBe('inbox');
    const ar = authResults(copy.header_prefix);
    expect(ar.startsWith(`Authentication-Results: ${HOST}; `)).toBe(true);
    expect(ar).toMatch(/dkim=pass [^;]*header\.i=@signed\.test/);
    expect(ar).toMatch(/spf=fail [^;]*smtp\.mailfrom=pat@signed\.test/);
    expect(ar).toMatch(/dmarc=pass [^;]*header\.from=signed\.test/);
  });

  it('delivers unsigned mail whose SPF aligns (dmarc=pass) and records Received-SPF', async () => {
    await settings();
    const r = await swaks(message('pat@ok.test', 'spf aligned'), { from: 'pat@ok.test' });
    expect(r.reply, r.output).toMatch(/^250 /);
    const copy = await delivered(r.spoolId!);
    expect(authResults(copy.header_prefix)).toMatch(/dkim=none .*spf=pass .*dmarc=pass/);
    expect(copy.header_prefix).toMatch(/^Received-SPF: pass /m);
  });

  it('refuses unsigned, misaligned mail from a p=reject domain with 550 5.7.1 before the final reply, and spools nothing', async () => {
    await settings();
    const before = await spoolCount();
    const unsigned = await swaks(message('ceo@bank.test', 'wire the money'), { from: 'ceo@bank.test' });
    expect(unsigned.reply).toBe('550 5.7.1 Message rejected: DMARC policy of bank.test (unauthenticated mail from this domain)');
    // Signed, but by another domain than From: (not aligned), and the envelope is someone else's.
    const misaligned = await swaks(await signed(message('ceo@bank.test', 'wire it now'), 'signed.test'), { from: 'pat@ok.test' });
    expect(misaligned.reply).toBe('550 5.7.1 Message rejected: DMARC policy of bank.test (unauthenticated mail from this domain)');
    // A signature the body no longer matches is no signature.
    const raw = (await signed(message('pat@signed.test', 'tampered'), 'signed.test')).toString('latin1').replace('quarterly', 'monthly');
    const tampered = await swaks(Buffer.from(raw, 'latin1'), { from: 'pat@signed.test' });
    expect(tampered.reply).toMatch(/^550 5\.7\.1 Message rejected: DMARC policy of signed\.test/);
    expect(await spoolCount()).toBe(before);
  });

  it('delivers failing mail from a p=quarantine domain to Junk', async () => {
    await settings();
    const r = await swaks(message('offers@shop.test', 'great offers'), { from: 'offers@shop.test' });
    expect(r.reply, r.output).toMatch(/^250 /);
    const copy = await delivered(r.spoolId!);
    expect(copy.special_use).toBe('junk');
    expect(authResults(copy.header_prefix)).toMatch(/dmarc=fail \(p=QUARANTINE/);
  });

  it('applies a per-domain override and the enforcement switch instead of the published policy', async () => {
    await settings({ dmarcPolicyOverrides: { 'bank.test': 'none', 'ok.test': 'reject' } });
    const r = await swaks(message('ceo@bank.test', 'overridden to none'), { from: 'ceo@bank.test' });
    expect(r.reply, r.output).toMatch(/^250 /);
    expect((await delivered(r.spoolId!)).special_use).toBe('inbox');
    await settings({ dmarcPolicyOverrides: { 'bank.test': 'quarantine' } });
    const q = await swaks(message('ceo@bank.test', 'overridden to quarantine'), { from: 'ceo@bank.test' });
    expect((await delivered(q.spoolId!)).special_use).toBe('junk');
    await settings({ dmarcEnforce: false });
    const off = await swaks(message('ceo@bank.test', 'not enforced'), { from: 'ceo@bank.test' });
    expect(off.reply).toMatch(/^250 /);
    expect(authResults((await delivered(off.spoolId!)).header_prefix)).toMatch(/dmarc=fail/);
  });

  it('removes incoming Authentication-Results claiming our id and X-Spam-* fields, keeps the others', async () => {
    await settings();
    const forged = message('pat@ok.test', 'forged results', [
      `Authentication-Results: ${HOST}; dkim=pass header.d=bank.test; dmarc=pass header.from=bank.test`,
      `Authentication-Results: (folded) ${HOST.toUpperCase()};`,
      '\tspf=pass smtp.mailfrom=bank.test',
      'Authentication-Results: relay.elsewhere.test; spf=pass smtp.mailfrom=ok.test',
      'X-Spam-Flag: NO',
      'X-Spam-Status: No, score=-100.0',
      '\ttests=ALL_TRUSTED',
    ]);
    const r = await swaks(forged, { from: 'pat@ok.test' });
    expect(r.reply, r.output).toMatch(/^250 /);
    const blob = await blobOf(r.spoolId!);
    expect(blob).not.toMatch(new RegExp(`Authentication-Results: (\\(folded\\) )?${HOST.replace(/\./g, '\\.')}`, 'i'));
    expect(blob).not.toMatch(/X-Spam-/i);
    expect(blob).toContain('Authentication-Results: relay.elsewhere.test; spf=pass smtp.mailfrom=ok.test\r\n');
    expect(blob).toContain('Subject: forged results\r\n');
    const prefix = (await delivered(r.spoolId!)).header_prefix;
    expect(prefix.match(/^Authentication-Results: /gm)).toHaveLength(1);
    expect(authResults(prefix)).toMatch(/spf=pass .*dmarc=pass .*header\.from=ok\.test/);
  });

  it('forgives a DMARC failure caused by a forwarder whose ARC chain passes only when the sealer is trusted', async () => {
    // The list got pat@signed.test's message with DKIM passing, added a subject tag (which breaks DKIM) and sealed it.
    const original = (await signed(message('pat@signed.test', 'quarterly report'), 'signed.test')).toString('latin1');
    const forwarded = Buffer.from(original.replace('Subject: quarterly report', 'Subject: [team] quarterly report'), 'latin1');
    const seal = await sealMessage(forwarded, {
      signingDomain: 'list.test', selector: 'arc', privateKey: PRIVATE_KEY, cv: 'none',
      authResults: 'list.test; dkim=pass header.d=signed.test; spf=pass smtp.mailfrom=pat@signed.test; dmarc=pass header.from=signed.test',
    } as unknown as Parameters<typeof sealMessage>[1]);
    const sealed = Buffer.concat([seal, forwarded]);

    await settings();
    const untrusted = await swaks(sealed, { from: 'team-bounces@list.test' });
    expect(untrusted.reply).toMatch(/^550 5\.7\.1 Message rejected: DMARC policy of signed\.test/);
    await settings({ arcTrustedSealers: ['list.test'] });
    const trusted = await swaks(sealed, { from: 'team-bounces@list.test' });
    expect(trusted.reply, trusted.output).toMatch(/^250 /);
    const copy = await delivered(trusted.spoolId!);
    expect(copy.special_use).toBe('inbox');
    expect(authResults(copy.header_prefix)).toMatch(/arc=pass .*dmarc=fail/);
  });

  it('does not hold signed-in users to DMARC on the submission port (Python smtplib), and adds no MX results', async () => {
    await settings();
    const script = `
import smtplib, ssl, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP('127.0.0.1', port, local_hostname='laptop.acme.test')
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
s.login(user, pw)
msg = b'From: Alice <alice@acme.test>\\r\\nTo: bob@acme.test\\r\\nSubject: from the laptop\\r\\n\\r\\nhi\\r\\n'
s.mail(user)
s.rcpt('bob@acme.test')
code, reply = s.data(msg)
print(code, reply.decode())
s.quit()
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(node.ports.submission), 'alice@acme.test', TEST_MAILBOX_PASSWORD]);
    expect(stdout).toMatch(/^250 2\.6\.0 Ok: queued as/);
    const id = new RegExp(UUID.source).exec(stdout)![0];
    expect((await delivered(id)).header_prefix).not.toMatch(/Authentication-Results/);
    // The same From: header from outside, on the MX port, is a forgery DMARC catches.
    const spoof = await swaks(message('alice@acme.test', 'spoofed colleague'), { from: 'someone@ok.test' });
    expect(spoof.reply).toBe('550 5.7.1 Message rejected: DMARC policy of acme.test (unauthenticated mail from this domain)');
  });
});

describe('DNS failing (real timeouts against a server that never answers)', () => {
  let dead: TestNode;
  let silent: Socket;
  beforeAll(async () => {
    // Takes every query and answers none: each lookup times out.
    silent = createSocket('udp4');
    silent.on('message', () => undefined);
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const port = silent.address().port;
    dead = await startTestNode({ roles: ['smtp'], settings: { ...ROOMY, dnsQueryTimeoutMs: 200 }, env: { DNS_SERVERS: `127.0.0.1:${port}` } });
    const acme = await dead.seed.tenant('acme');
    const d = await dead.seed.domain(acme.id, 'acme.test');
    await dead.seed.mailbox(d.id, 'alice');
  });
  afterAll(async () => {
    await dead?.close();
    silent?.close();
  });

  it('accepts with temperror by default, and answers 451 4.7.5 when the settings say defer', async () => {
    const r = await swaks(message('ceo@bank.test', 'dns down'), { from: 'ceo@bank.test', port: dead.ports.smtp });
    expect(r.reply, r.output).toMatch(/^250 /);
    const [row] = await dead.db.dataSource.query(`SELECT filter_headers FROM spool_message WHERE id = $1`, [r.spoolId]);
    expect(row.filter_headers).toMatch(/^Authentication-Results: mx\.dizi\.test;\r\n(?: .*\r\n)* spf=temperror/);
    expect(row.filter_headers).toMatch(/dmarc=temperror/);
    await dead.setSettings({ dmarcTempErrorAction: 'defer' });
    const d = await swaks(message('ceo@bank.test', 'dns still down'), { from: 'ceo@bank.test', port: dead.ports.smtp });
    expect(d.reply).toBe('451 4.7.5 Sender authentication (DMARC) could not be checked, try again later');
  });

  it('gives up on lookups that outlast mailAuthTimeoutSeconds', async () => {
    await dead.setSettings({ dmarcTempErrorAction: 'accept', dnsQueryTimeoutMs: 30_000, mailAuthTimeoutSeconds: 1 });
    const started = Date.now();
    const r = await swaks(message('ceo@bank.test', 'slow dns'), { from: 'ceo@bank.test', port: dead.ports.smtp });
    expect(r.reply, r.output).toMatch(/^250 /);
    expect(Date.now() - started).toBeLessThan(10_000);
    const [row] = await dead.db.dataSource.query(`SELECT filter_headers FROM spool_message WHERE id = $1`, [r.spoolId]);
    expect(row.filter_headers).toMatch(/temperror \(checks took longer than 1000 ms\)/);
  });
});
