/**
 * Client autoconfiguration and MTA-STS over HTTP, read the way their consumers read them: the policy with mailauth's
 * MTA-STS parser and MX check (what Dizi's own outbound uses), the XML with a real XML parser.
 */
import { request as httpRequest } from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { parsePolicy, validateMx } from 'mailauth/lib/mta-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, type TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

interface Got {
  status: number;
  type: string;
  body: string;
}

describe('client autoconfiguration and MTA-STS', () => {
  let api: TestApi;
  let op: string;
  const xml = new XMLParser({ ignoreAttributes: false });

  const send = (method: string, path: string, host: string, body?: string) =>
    new Promise<Got>((resolve, reject) => {
      const { port } = new URL(api.url);
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { host, ...(body ? { 'content-type': 'text/xml' } : {}) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  const outlookAsks = (address: string) =>
    `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${address}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;

  beforeAll(async () => {
    api = await startTestApi();
    op = await api.operatorToken();
    const t = await seedTenant(api.db.dataSource, 'Quay Mail', ['quay.test', 'nopop.test', 'off.test'], [{ local: 'ann', domain: 'quay.test' }], TEST_PASSWORD);
    await api.db.dataSource.query(`UPDATE domain SET helo_name = 'mx1.quay.test' WHERE name = 'quay.test'`);
    await api.db.dataSource.query(`UPDATE domain SET pop3_enabled = false WHERE name = 'nopop.test'`);
    await api.db.dataSource.query(`UPDATE domain SET status = 'disabled' WHERE name = 'off.test' AND tenant_id = $1`, [t.id]);
  }, 120_000);
  afterAll(async () => {
    await api?.close();
  });

  it('serves the MTA-STS policy on mta-sts.<domain> naming the MX, in the mode the operator set', async () => {
    const got = await send('GET', '/.well-known/mta-sts.txt', 'mta-sts.quay.test');
    expect(got.status).toBe(200);
    expect(got.type).toMatch(/^text\/plain/);
    const policy = parsePolicy(got.body);
    expect(policy).toMatchObject({ version: 'STSv1', mode: 'testing', mx: ['mx1.quay.test'], maxAge: 7 * 86_400 });
    expect(validateMx('mx1.quay.test', policy).valid).toBe(true);
    expect(validateMx('mail.elsewhere.test', policy).valid).toBe(false);

    const changed = await api.request('PATCH', '/api/settings/smtp', { token: op, body: { mtaStsMode: 'enforce', mtaStsMaxAgeDays: 30 } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(parsePolicy((await send('GET', '/.well-known/mta-sts.txt', 'MTA-STS.Quay.Test:443')).body)).toMatchObject({ mode: 'enforce', maxAge: 30 * 86_400 });
    const bad = await api.request('PATCH', '/api/settings/smtp', { token: op, body: { mtaStsMode: 'strict' } });
    expect(bad.status).toBe(400);
  });

  it('says nothing about names it does not host, disabled domains, or hosts without the mta-sts label', async () => {
    for (const host of ['mta-sts.unknown.test', 'mta-sts.off.test', 'quay.test', 'mta-sts.']) {
      const got = await send('GET', '/.well-known/mta-sts.txt', host);
      expect(got.status, host).toBe(404);
    }
    expect((await send('POST', '/.well-known/mta-sts.txt', 'mta-sts.quay.test')).status).toBe(405);
  });

  it("answers Thunderbird's autoconfig with the enabled protocols over TLS, by address or by the autoconfig host", async () => {
    const byAddress = await send('GET', '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ann%40quay.test', 'quay.test');
    expect(byAddress.status).toBe(200);
    expect(byAddress.type).toMatch(/^application\/xml/);
    const provider = xml.parse(byAddress.body).clientConfig.emailProvider;
    expect(provider['@_id']).toBe('quay.test');
    const incoming = [provider.incomingServer].flat().map((s: any) => `${s['@_type']} ${s.hostname}:${s.port} ${s.socketType} ${s.username} ${s.authentication}`);
    expect(incoming).toEqual(['imap mx1.quay.test:993 SSL %EMAILADDRESS% password-cleartext', 'pop3 mx1.quay.test:995 SSL %EMAILADDRESS% password-cleartext']);
    const outgoing = [provider.outgoingServer].flat().map((s: any) => `${s['@_type']} ${s.hostname}:${s.port} ${s.socketType}`);
    expect(outgoing).toEqual(['smtp mx1.quay.test:465 SSL', 'smtp mx1.quay.test:587 STARTTLS']);

    const byHost = await send('GET', '/mail/config-v1.1.xml', 'autoconfig.nopop.test');
    expect(byHost.status).toBe(200);
    const other = xml.parse(byHost.body).clientConfig.emailProvider;
    expect([other.incomingServer].flat().map((s: any) => `${s['@_type']} ${s.hostname}`)).toEqual(['imap mail.nopop.test']);

    expect((await send('GET', '/mail/config-v1.1.xml?emailaddress=x%40unknown.test', 'autoconfig.quay.test')).status).toBe(404);
    expect((await send('GET', '/mail/config-v1.1.xml', 'autoconfig.off.test')).status).toBe(404);
  });

  it("answers Outlook's autodiscover for a hosted address, and refuses what is not a request for one", async () => {
    const got = await send('POST', '/Autodiscover/Autodiscover.xml', 'autodiscover.quay.test', outlookAsks('ann@quay.test'));
    expect(got.status).toBe(200);
    const account = xml.parse(got.body).Autodiscover.Response.Account;
    expect(account.Action).toBe('settings');
    expect(account.Protocol.map((p: any) => `${p.Type} ${p.Server}:${p.Port} ssl=${p.SSL} ${p.LoginName}`)).toEqual([
      'IMAP mx1.quay.test:993 ssl=on ann@quay.test',
      'POP3 mx1.quay.test:995 ssl=on ann@quay.test',
      'SMTP mx1.quay.test:465 ssl=on ann@quay.test',
    ]);
    // An address with an escaped character is read as XML, and written back escaped, never as markup.
    const odd = await send('POST', '/autodiscover/autodiscover.xml', 'quay.test', outlookAsks('a&amp;b&lt;@quay.test'));
    expect(odd.status).toBe(200);
    expect(odd.body).toContain('<LoginName>a&amp;b&lt;@quay.test</LoginName>');

    expect((await send('POST', '/autodiscover/autodiscover.xml', 'quay.test', outlookAsks('ann@unknown.test'))).status).toBe(404);
    const none = await send('POST', '/autodiscover/autodiscover.xml', 'quay.test', '<Autodiscover/>');
    expect(none.status).toBe(400);
    expect(none.body).toMatch(/EMailAddress/);
    expect((await send('POST', '/autodiscover/autodiscover.xml', 'quay.test', outlookAsks('ann@quay.test') + ' '.repeat(20_000))).status).toBe(413);
    expect((await send('GET', '/autodiscover/autodiscover.xml', 'quay.test')).status).toBe(405);
  });
});
