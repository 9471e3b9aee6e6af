/**
 * SPF, DKIM and DMARC of inbound mail against a real DNS server (unbound, apt package `unbound`)
 * that serves the sender domains' SPF, DKIM key and DMARC records from local zones.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { dkimSign } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test infrastructure, not a runtime dependency of the delivery lib.
import { startUnbound, type Unbound } from '@dizi/testing/unbound';
import { checkMessageAuth } from '../src/auth-results/check-message';
import { createDnsResolver } from '../src/auth-results/dns-resolver';

const ALLOWED_IP = '192.0.2.10';
const OTHER_IP = '198.51.100.7';
const HOST = 'mx.dizi.test';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_KEY = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const PRIVATE_KEY = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function message(from: string, body = 'Hello,\r\n\r\nthe quarterly figures are attached.\r\n'): Buffer {
  return Buffer.from(
    [
      `From: Pat <${from}>`,
      'To: lee@dizi.test',
      'Subject: Figures',
      'Date: Thu, 26 Nov 2026 10:00:00 +0000',
      `Message-ID: <${Math.random().toString(36).slice(2)}@${from.split('@')[1]}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );
}

async function signed(raw: Buffer, domain: string): Promise<Buffer> {
  // mailauth 4.13.3 signs only what is in signatureData; its index.d.ts wrongly types the key as top-level options.
  const options = { canonicalization: 'relaxed/relaxed', signatureData: [{ signingDomain: domain, selector: 'mail', privateKey: PRIVATE_KEY }] };
  const res = await dkimSign(raw, options as unknown as Parameters<typeof dkimSign>[1]);
  expect(res.errors).toEqual([]);
  expect(res.signatures).toMatch(/^DKIM-Signature: /);
  return Buffer.concat([Buffer.from(res.signatures), raw]);
}

describe('inbound authentication results (real unbound)', () => {
  let dnsServer: Unbound;
  let resolver: ReturnType<typeof createDnsResolver>;

  beforeAll(async () => {
    dnsServer = await startUnbound([
      { name: 'sender.test', type: 'TXT', value: `v=spf1 ip4:${ALLOWED_IP} -all` },
      { name: 'mail._domainkey.sender.test', type: 'TXT', value: `v=DKIM1; k=rsa; p=${PUBLIC_KEY}` },
      { name: '_dmarc.sender.test', type: 'TXT', value: 'v=DMARC1; p=reject; adkim=r; aspf=r' },
      // A second domain with a relaxed policy, to see the policy reported is the From domain's.
      { name: 'relaxed.test', type: 'TXT', value: `v=spf1 ip4:${ALLOWED_IP} -all` },
      { name: '_dmarc.relaxed.test', type: 'TXT', value: 'v=DMARC1; p=none' },
    ]);
    resolver = createDnsResolver(dnsServer.server, { timeoutMs: 1000 });
  });
  afterAll(() => dnsServer?.stop());

  const check = (raw: Buffer | Readable, clientIp: string, mailFrom = 'pat@sender.test') =>
    checkMessageAuth({ message: raw, clientIp, helo: 'out.sender.test', mailFrom, hostname: HOST, resolver });

  it('passes SPF, DKIM and DMARC for a signed message from an allowed address', async () => {
    const raw = await signed(message('pat@sender.test'), 'sender.test');
    const r = await check(Readable.from([raw.subarray(0, 100), raw.subarray(100)]), ALLOWED_IP);
    expect(r.error).toBeUndefined();
    expect(r.verdicts.spf).toMatchObject({ result: 'pass', domain: 'sender.test' });
    expect(r.verdicts.dkim).toEqual([expect.objectContaining({ result: 'pass', domain: 'sender.test', selector: 'mail', aligned: true })]);
    expect(r.verdicts.dmarc).toMatchObject({ result: 'pass', domain: 'sender.test', policy: 'reject' });
    expect(r.authenticationResults.startsWith(`Authentication-Results: ${HOST};\r\n `)).toBe(true);
    expect(r.authenticationResults.endsWith('\r\n')).toBe(true);
    // One header field: every further line is a folded continuation.
    expect(r.authenticationResults.slice(0, -2).split('\r\n').slice(1).every((l) => /^[ \t]/.test(l))).toBe(true);
    expect(r.authenticationResults).toMatch(/dkim=pass header\.i=@sender\.test header\.s=mail/);
    expect(r.authenticationResults).toMatch(/spf=pass .*smtp\.mailfrom=(pat@)?sender\.test/s);
    expect(r.authenticationResults).toMatch(/dmarc=pass .*header\.from=sender\.test/s);
    expect(r.receivedSpf).toMatch(/^Received-SPF: pass .*client-ip=192\.0\.2\.10;/s);
  });

  it('fails DKIM when the body was changed after signing', async () => {
    const raw = await signed(message('pat@sender.test'), 'sender.test');
    const tampered = Buffer.from(raw.toString('latin1').replace('quarterly figures', 'new bank account'), 'latin1');
    expect(tampered.equals(raw)).toBe(false);
    const r = await check(tampered, ALLOWED_IP);
    expect(r.verdicts.dkim).toEqual([expect.objectContaining({ result: 'fail', domain: 'sender.test' })]);
    expect(r.authenticationResults).toMatch(/dkim=fail \(body hash did not verify\)/);
    // SPF still aligns, so DMARC passes on SPF alone.
    expect(r.verdicts.spf.result).toBe('pass');
    expect(r.verdicts.dmarc.result).toBe('pass');
  });

  it('fails SPF for a client address the domain does not list', async () => {
    const raw = await signed(message('pat@sender.test'), 'sender.test');
    const r = await check(raw, OTHER_IP);
    expect(r.verdicts.spf).toMatchObject({ result: 'fail', domain: 'sender.test' });
    expect(r.authenticationResults).toMatch(/spf=fail /);
    expect(r.receivedSpf).toMatch(/^Received-SPF: fail .*client-ip=198\.51\.100\.7;/s);
    // DKIM still aligns.
    expect(r.verdicts.dkim[0].result).toBe('pass');
    expect(r.verdicts.dmarc.result).toBe('pass');
  });

  it('reports a DMARC failure with the domain policy p=reject', async () => {
    // Unsigned, from an address SPF does not allow: nothing aligns.
    const r = await check(message('pat@sender.test'), OTHER_IP);
    expect(r.verdicts.spf.result).toBe('fail');
    expect(r.verdicts.dkim).toEqual([]);
    expect(r.verdicts.dmarc).toMatchObject({ result: 'fail', domain: 'sender.test', policy: 'reject', percent: 100 });
    expect(r.authenticationResults).toMatch(/dmarc=fail \(p=REJECT[^)]*\) header\.from=sender\.test/);
    expect(r.authenticationResults).toMatch(/dkim=none/);
  });

  it('reports the From domain’s own policy and DKIM not aligned with it', async () => {
    // Signed by sender.test but From relaxed.test, sent from an address relaxed.test does not list.
    const raw = await signed(message('pat@relaxed.test'), 'sender.test');
    const r = await check(raw, OTHER_IP, 'pat@relaxed.test');
    expect(r.verdicts.dkim).toEqual([expect.objectContaining({ result: 'pass', domain: 'sender.test', aligned: false })]);
    expect(r.verdicts.dmarc).toMatchObject({ result: 'fail', domain: 'relaxed.test', policy: 'none' });
  });

  it('checks the HELO name for the null sender and answers none where no record exists', async () => {
    const r = await checkMessageAuth({ message: message('mailer-daemon@nowhere.test'), clientIp: ALLOWED_IP, helo: 'out.nowhere.test', mailFrom: '', hostname: HOST, resolver });
    expect(r.verdicts.spf.result).toBe('none');
    expect(r.verdicts.dmarc.result).toBe('none');
    expect(r.verdicts.dmarc.policy).toBeNull();
    expect(r.authenticationResults).toMatch(/spf=none .*smtp\.helo=out\.nowhere\.test/s);
  });

  it('says temperror, not pass or fail, when the DNS server does not answer', async () => {
    const deadResolver = createDnsResolver('127.0.0.1:9', { timeoutMs: 200, tries: 1 });
    const raw = await signed(message('pat@sender.test'), 'sender.test');
    const r = await checkMessageAuth({ message: raw, clientIp: ALLOWED_IP, helo: 'x', mailFrom: 'pat@sender.test', hostname: HOST, resolver: deadResolver });
    expect(r.verdicts.spf.result).toBe('temperror');
    expect(['temperror', 'neutral']).toContain(r.verdicts.dkim[0].result);
    expect(r.verdicts.dmarc.result).toBe('temperror');
  });
});
