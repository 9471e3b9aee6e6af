/** Operator settings: SMTP settings over their defaults, the write-only relay password, live reload on the mail nodes, templates. */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '@dizi/auth/secret-box';
import { DEFAULT_SMTP_SETTINGS } from '@dizi/contracts/mail-settings.contract';
import { DEFAULT_MAIL_TEMPLATES } from '@dizi/contracts/settings.contract';
import { loadMailTemplates, renderSystemMail } from '@dizi/delivery/adapters/postgres/mail-templates';
import { RELAY_PASSWORD_FIELD, SettingsSource, settingsChangedChannel } from '@dizi/delivery/adapters/postgres/settings-source';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { SettingsService } from '../src/modules/settings/settings.service';
import { startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedTenant } from './tenancy-fixture';

const RELAY_SECRET = 'relay-Secret-4711';
/** The installation's settings key, as SETTINGS_ENCRYPTION_KEY gives it to the API and every mail node. */
const SETTINGS_KEY = randomBytes(32);

describe('settings API', () => {
  let api: TestApi;
  let op: string;
  let tenantAdmin: string;
  let prefix: string;

  beforeAll(async () => {
    api = await startTestApi({ SETTINGS_ENCRYPTION_KEY: SETTINGS_KEY.toString('base64') });
    prefix = `dizi-test:${api.db.name}:`;
    op = await api.operatorToken();
    await seedTenant(api.db.dataSource, 'Acme', ['acme.test'], [{ local: 'boss', role: 'tenant_admin' }], TEST_PASSWORD);
    tenantAdmin = await api.login('boss@acme.test', TEST_PASSWORD);
  });
  afterAll(() => api?.close());

  const stored = async (key: string) => (await api.db.dataSource.query(`SELECT value FROM system_setting WHERE key = $1`, [key]))[0]?.value;
  const audits = (action: string) =>
    api.db.dataSource.query(`SELECT actor_name, before, after, before::text || after::text AS text FROM audit_event WHERE action = $1 ORDER BY at`, [action]);

  it('shows the defaults when nothing is stored', async () => {
    const r = await api.request('GET', '/api/settings/smtp', { token: op });
    expect(r.status).toBe(200);
    expect(r.body.overridden).toEqual([]);
    expect(r.body.updatedAt).toBeNull();
    expect(r.body.values).toEqual(r.body.defaults);
    expect(r.body.defaults.maxRecipients).toBe(16);
    expect(r.body.defaults.maxMessageBytes).toBe(100 * 1024 * 1024);
    expect(r.body.defaults.relay).toEqual({ mode: 'never', host: '', port: 587, username: '', authMethod: 'PLAIN', passwordSet: false });
    expect(JSON.stringify(r.body)).not.toMatch(/"password"/);
  });

  it('changes only the named fields, keeps the relay password write-only and audits without it', async () => {
    const r = await api.request('PATCH', '/api/settings/smtp', {
      token: op,
      body: { maxRecipients: 64, senderBlockList: ['  @SPAM.test '], relay: { mode: 'on_failure', host: 'relay.example.test', username: 'dizi', password: RELAY_SECRET } },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    // The time of this change, as GET reads it afterwards (it was null in the PATCH answer).
    expect(r.body.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await api.request('GET', '/api/settings/smtp', { token: op })).body.updatedAt).toBe(r.body.updatedAt);
    expect(r.body.values.maxRecipients).toBe(64);
    expect(r.body.defaults.maxRecipients).toBe(16);
    expect(r.body.values.senderBlockList).toEqual(['@spam.test']);
    expect(r.body.values.relay).toEqual({ mode: 'on_failure', host: 'relay.example.test', port: 587, username: 'dizi', authMethod: 'PLAIN', passwordSet: true });
    expect(r.body.values.greeting).toBe(DEFAULT_SMTP_SETTINGS.greeting);
    expect(r.body.overridden).toEqual(['maxRecipients', 'relay.host', 'relay.mode', 'relay.password', 'relay.username', 'senderBlockList']);
    expect(JSON.stringify(r.body)).not.toContain(RELAY_SECRET);

    // Stored: only what was set, normalised; the password sealed with the installation's key (AES-256-GCM).
    const value = await stored('smtp');
    expect(value).toEqual({
      maxRecipients: 64,
      senderBlockList: ['@spam.test'],
      relay: { mode: 'on_failure', host: 'relay.example.test', username: 'dizi', password: expect.stringMatching(/^enc:v1:[A-Za-z0-9+/]+=*$/) },
    });
    expect(JSON.stringify(value)).not.toContain(RELAY_SECRET);
    expect(new SecretBox(SETTINGS_KEY).open(value.relay.password, RELAY_PASSWORD_FIELD)).toBe(RELAY_SECRET);
    // Bound to its field and its key: neither another field name nor another key opens it.
    expect(() => new SecretBox(SETTINGS_KEY).open(value.relay.password, 'smtp.relay.username')).toThrow(/cannot be decrypted/);
    expect(() => new SecretBox(randomBytes(32)).open(value.relay.password, RELAY_PASSWORD_FIELD)).toThrow(/cannot be decrypted/);

    const again = await api.request('GET', '/api/settings/smtp', { token: op });
    expect(again.body.values).toEqual(r.body.values);
    expect(JSON.stringify(again.body)).not.toContain(RELAY_SECRET);

    const [event] = await audits('settings.smtp.update');
    expect(event.actor_name).toBe('op');
    expect(event.text).not.toContain(RELAY_SECRET);
    expect(event.after.relay).toEqual({ mode: 'on_failure', host: 'relay.example.test', username: 'dizi', passwordSet: true });
    expect(event.after.maxRecipients).toBe(64);
  });

  it('keeps the stored password when other relay fields change, and clears it with ""', async () => {
    const r = await api.request('PATCH', '/api/settings/smtp', { token: op, body: { relay: { port: 2525 } } });
    expect(r.status).toBe(200);
    const sealed = (await stored('smtp')).relay.password;
    expect((await stored('smtp')).relay).toEqual({ mode: 'on_failure', host: 'relay.example.test', username: 'dizi', password: sealed, port: 2525 });
    expect(new SecretBox(SETTINGS_KEY).open(sealed, RELAY_PASSWORD_FIELD)).toBe(RELAY_SECRET);

    // A mail node with the same key logs in with the plain password; one with another key gets none, and says why without it.
    const pool = new Pool({ connectionString: api.db.url, max: 2 });
    pool.on('error', () => undefined);
    try {
      const node = new SettingsSource(pool, () => undefined, { pollMs: 0, secretBox: new SecretBox(SETTINGS_KEY) });
      await node.reload();
      expect(node.smtp.relay.password).toBe(RELAY_SECRET);
      const errors: unknown[] = [];
      const wrongKey = new SettingsSource(pool, (e) => errors.push(e), { pollMs: 0, secretBox: new SecretBox(randomBytes(32)) });
      await wrongKey.reload();
      expect(wrongKey.smtp.relay.password).toBe('');
      expect(wrongKey.smtp.relay.host).toBe('relay.example.test');
      expect(String(errors[0])).toMatch(/smtp\.relay\.password cannot be decrypted/);
      expect(String(errors[0])).not.toContain(RELAY_SECRET);
      expect(String(errors[0])).not.toContain(sealed);
    } finally {
      await pool.end();
    }

    const cleared = await api.request('PATCH', '/api/settings/smtp', { token: op, body: { relay: { password: '' } } });
    expect(cleared.body.values.relay.passwordSet).toBe(false);
    expect((await stored('smtp')).relay).not.toHaveProperty('password');
  });

  it('seals at start a relay password an earlier release stored in clear', async () => {
    await api.db.dataSource.query(`UPDATE system_setting SET value = jsonb_set(value, '{relay,password}', to_jsonb($1::text)) WHERE key = 'smtp'`, [RELAY_SECRET]);
    expect((await stored('smtp')).relay.password).toBe(RELAY_SECRET);
    await api.app.get(SettingsService).onModuleInit();
    const sealed = (await stored('smtp')).relay.password;
    expect(sealed).toMatch(/^enc:v1:/);
    expect(new SecretBox(SETTINGS_KEY).open(sealed, RELAY_PASSWORD_FIELD)).toBe(RELAY_SECRET);
    // Once sealed, a second start leaves it alone.
    await api.app.get(SettingsService).onModuleInit();
    expect((await stored('smtp')).relay.password).toBe(sealed);
    const r = await api.request('GET', '/api/settings/smtp', { token: op });
    expect(r.body.values.relay.passwordSet).toBe(true);
    expect(JSON.stringify(r.body)).not.toContain('enc:v1:');
    await api.request('PATCH', '/api/settings/smtp', { token: op, body: { relay: { password: '' } } });
  });

  it('takes the outbound TLS policy globally and per destination domain, refusing what is not one', async () => {
    const r = await api.request('PATCH', '/api/settings/smtp', { token: op, body: { outboundTlsPolicyByDomain: { ' Bank.Example ': 'verify', 'partner.test': 'opportunistic' } } });
    expect(r.status).toBe(200);
    expect(r.body.values.outboundTlsPolicy).toBe('opportunistic');
    expect(r.body.values.outboundTlsPolicyByDomain).toEqual({ 'bank.example': 'verify', 'partner.test': 'opportunistic' });
    expect((await stored('smtp')).outboundTlsPolicyByDomain).toEqual({ 'bank.example': 'verify', 'partner.test': 'opportunistic' });
    for (const body of [{ outboundTlsPolicy: 'dane' }, { outboundTlsPolicyByDomain: { 'bank.example': 'required' } }, { outboundTlsPolicyByDomain: { 'not a domain': 'verify' } }]) {
      const bad = await api.request('PATCH', '/api/settings/smtp', { token: op, body });
      expect(bad.status).toBe(400);
      expect(bad.body.field).toMatch(/^outboundTlsPolicy/);
    }
    expect((await api.request('PATCH', '/api/settings/smtp', { token: op, body: { outboundTlsPolicy: 'verify', outboundTlsPolicyByDomain: null } })).body.values)
      .toMatchObject({ outboundTlsPolicy: 'verify', outboundTlsPolicyByDomain: {} });
    await api.request('PATCH', '/api/settings/smtp', { token: op, body: { outboundTlsPolicy: null } });
  });

  it('takes DNS lists, HELO/reverse-DNS actions, greylisting and per-domain spam thresholds, off by default, refusing bad ones', async () => {
    const defaults = (await api.request('GET', '/api/settings/smtp', { token: op })).body.defaults;
    expect(defaults).toMatchObject({
      dnsLists: [], heloBareIpAction: 'off', heloNotFqdnAction: 'off', reverseDnsMissingAction: 'off', reverseDnsMismatchAction: 'off',
      greylistEnabled: false, greylistDelaySeconds: 300, greylistAutoPassAfter: 5, antispamDomainOverrides: {},
    });
    const r = await api.request('PATCH', '/api/settings/smtp', {
      token: op,
      body: { dnsLists: [{ zone: ' ZEN.Spamhaus.org ', action: 'reject' }, { zone: 'dbl.example', type: 'domain', weight: 4 }], greylistEnabled: true,
        antispamDomainOverrides: { 'acme.example': { junkScore: 4 } } },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.values.dnsLists).toEqual([
      { zone: 'zen.spamhaus.org', type: 'ip', action: 'reject', weight: 3, answers: [] },
      { zone: 'dbl.example', type: 'domain', action: 'score', weight: 4, answers: [] },
    ]);
    for (const [body, field] of [
      [{ dnsLists: [{ zone: 'not a zone' }] }, 'dnsLists.0.zone'],
      [{ dnsLists: [{ zone: 'bl.example', answers: ['10.0.0.2'] }] }, 'dnsLists.0.answers.0'],
      [{ heloNotFqdnAction: 'tarpit' }, 'heloNotFqdnAction'],
      [{ antispamDomainOverrides: { 'acme.example': { junk: 4 } } }, 'antispamDomainOverrides.acme.example'],
    ] as const) {
      const bad = await api.request('PATCH', '/api/settings/smtp', { token: op, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.field).toBe(field);
    }
    await api.request('PATCH', '/api/settings/smtp', { token: op, body: { dnsLists: null, greylistEnabled: null, antispamDomainOverrides: null } });
  });

  it('takes the virus and spam filter settings, off by default, refusing bad addresses and actions', async () => {
    const defaults = (await api.request('GET', '/api/settings/smtp', { token: op })).body.defaults;
    expect(defaults).toMatchObject({
      antivirusEnabled: false, antivirusAddress: '127.0.0.1:3310', antivirusAction: 'reject', antivirusOnSubmission: true,
      antispamEnabled: false, antispamAddress: '127.0.0.1:783', antispamTagScore: 5, antispamJunkScore: 7, antispamRejectScore: 15, antispamOnSubmission: false,
      scannerFailureAction: 'defer', scannerTimeoutSeconds: 30,
    });
    const r = await api.request('PATCH', '/api/settings/smtp', {
      token: op,
      body: { antivirusEnabled: true, antivirusAddress: ' /run/clamav/clamd.ctl ', antivirusAction: 'virus_folder', antispamEnabled: true, antispamAddress: '[::1]:783', antispamJunkScore: 6.5 },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.values).toMatchObject({ antivirusEnabled: true, antivirusAddress: '/run/clamav/clamd.ctl', antivirusAction: 'virus_folder', antispamAddress: '[::1]:783', antispamJunkScore: 6.5 });
    expect(r.body.overridden).toEqual(expect.arrayContaining(['antivirusEnabled', 'antivirusAddress', 'antispamJunkScore']));
    for (const [body, field] of [
      [{ antivirusAddress: 'clamd' }, 'antivirusAddress'],
      [{ antispamAddress: 'http://spamd:783' }, 'antispamAddress'],
      [{ antivirusAction: 'bounce' }, 'antivirusAction'],
      [{ scannerFailureAction: 'ignore' }, 'scannerFailureAction'],
      [{ scannerTimeoutSeconds: 0 }, 'scannerTimeoutSeconds'],
      // Junk is 6.5 now: a reject score at or below it would leave Junk unreachable.
      [{ antispamRejectScore: 6.5 }, 'antispamRejectScore'],
      [{ antispamJunkScore: 20 }, 'antispamRejectScore'],
    ] as const) {
      const bad = await api.request('PATCH', '/api/settings/smtp', { token: op, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.field).toBe(field);
    }
    const reset = Object.fromEntries(['antivirusEnabled', 'antivirusAddress', 'antivirusAction', 'antispamEnabled', 'antispamAddress', 'antispamJunkScore'].map((k) => [k, null]));
    expect((await api.request('PATCH', '/api/settings/smtp', { token: op, body: reset })).body.values).toMatchObject({ antivirusEnabled: false, antispamEnabled: false });
  });

  it('puts a field back to its default with null', async () => {
    const r = await api.request('PATCH', '/api/settings/smtp', { token: op, body: { maxRecipients: null } });
    expect(r.status).toBe(200);
    expect(r.body.values.maxRecipients).toBe(16);
    expect(r.body.overridden).not.toContain('maxRecipients');
    expect(await stored('smtp')).not.toHaveProperty('maxRecipients');
  });

  it('refuses invalid values with 400 naming the field, changing nothing', async () => {
    const before = await stored('smtp');
    const cases: [unknown, string][] = [
      [{ maxRecipients: 500 }, 'maxRecipients'],
      [{ maxMessageBytes: 'big' }, 'maxMessageBytes'],
      [{ relay: { port: 70000 } }, 'relay.port'],
      [{ relay: { authMethod: 'NTLM' } }, 'relay.authMethod'],
      [{ ipBlockList: ['10.0.0.0/8', 'not an ip'] }, 'ipBlockList.1'],
    ];
    for (const [body, field] of cases) {
      const r = await api.request('PATCH', '/api/settings/smtp', { token: op, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.field).toBe(field);
      expect(r.body.message).toContain(field);
    }
    const unknown = await api.request('PATCH', '/api/settings/smtp', { token: op, body: { maxRecipientz: 5 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('maxRecipientz');
    expect(await stored('smtp')).toEqual(before);
  });

  it('refuses turning the relay on without a host', async () => {
    await api.request('PATCH', '/api/settings/smtp', { token: op, body: { relay: null } });
    const r = await api.request('PATCH', '/api/settings/smtp', { token: op, body: { relay: { mode: 'always' } } });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('relay.host');
    expect((await stored('smtp')).relay).toBeUndefined();
  });

  it('is for operators only', async () => {
    expect((await api.request('GET', '/api/settings/smtp', { token: tenantAdmin })).status).toBe(403);
    const before = await stored('smtp');
    expect((await api.request('PATCH', '/api/settings/smtp', { token: tenantAdmin, body: { maxRecipients: 2 } })).status).toBe(403);
    expect((await api.request('PUT', '/api/settings/templates', { token: tenantAdmin, body: DEFAULT_MAIL_TEMPLATES })).status).toBe(403);
    expect(await stored('smtp')).toEqual(before);
    expect(await stored('templates')).toBeUndefined();
    expect((await api.request('GET', '/api/settings/smtp')).status).toBe(401);
  });

  it("announces a change on the installation's channel, and a running SettingsSource applies it within 1 s", async () => {
    const pool = new Pool({ connectionString: api.db.url, max: 2 });
    pool.on('error', () => undefined); // idle clients see the teardown's DROP DATABASE
    // As a mail node makes it: the installation's keyPrefix on the client, no prefix given to start().
    const nodeRedis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
    const source = new SettingsSource(pool, (e) => {
      throw e;
    }, { pollMs: 0 });
    const listener = new Redis(TEST_REDIS_URL);
    const heard: string[] = [];
    try {
      await source.start(nodeRedis);
      expect(source.smtp.maxRecipients).toBe(16);
      listener.on('message', (channel, message) => heard.push(`${channel} ${message}`));
      await listener.subscribe(settingsChangedChannel(prefix), SETTINGS_CHANNEL_UNPREFIXED);

      const applied = new Promise<number>((resolve) => source.onChange((s) => s.maxRecipients === 99 && resolve(performance.now())));
      const sent = performance.now();
      const r = await api.request('PATCH', '/api/settings/smtp', { token: op, body: { maxRecipients: 99 } });
      expect(r.status).toBe(200);
      const at = await Promise.race([applied, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('not reloaded within 1 s')), 1000))]);
      expect(at - sent).toBeLessThan(1000);
      expect(source.smtp.maxRecipients).toBe(99);
      await new Promise((r) => setTimeout(r, 50));
      // Only on the prefixed channel: ioredis does not prefix channel names by itself.
      expect(heard).toEqual([`${prefix}settings:changed smtp`]);
    } finally {
      await source.stop();
      listener.disconnect();
      nodeRedis.disconnect();
      await pool.end();
    }
  });

  describe('templates', () => {
    it('shows the defaults in both languages with their placeholders', async () => {
      const r = await api.request('GET', '/api/settings/templates', { token: op });
      expect(r.status).toBe(200);
      expect(r.body.values).toEqual(DEFAULT_MAIL_TEMPLATES);
      expect(r.body.defaults).toEqual(DEFAULT_MAIL_TEMPLATES);
      expect(Object.keys(r.body.values.welcome)).toEqual(['zh-CN', 'en']);
      expect(r.body.values.welcome['zh-CN'].subject).toContain('{{address}}');
      expect(Object.keys(r.body.placeholders.quotaWarning)).toEqual(['address', 'displayName', 'usedPercent', 'used', 'quota']);
      expect(r.body.updatedAt).toBeNull();
    });

    it('stores changed templates and audits them', async () => {
      const body = structuredClone(DEFAULT_MAIL_TEMPLATES);
      body.welcome.en.subject = 'Your new mailbox {{address}} at {{domain}}';
      body.quotaWarning['zh-CN'].body = '{{displayName}}：邮箱已用 {{usedPercent}}%（{{used}} / {{quota}}）。';
      const r = await api.request('PUT', '/api/settings/templates', { token: op, body });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect((await api.request('GET', '/api/settings/templates', { token: op })).body.updatedAt).toBe(r.body.updatedAt);
      expect(r.body.values).toEqual(body);
      expect(r.body.defaults).toEqual(DEFAULT_MAIL_TEMPLATES);
      expect(await stored('templates')).toEqual(body);
      expect((await api.request('GET', '/api/settings/templates', { token: op })).body.values).toEqual(body);
      const [event] = await audits('settings.templates.update');
      expect(event.after.welcome.en.subject).toBe(body.welcome.en.subject);

      // What the delivery workers read and send.
      const pool = new Pool({ connectionString: api.db.url, max: 1 });
      pool.on('error', () => undefined); // idle clients see the teardown's DROP DATABASE
      try {
        const loaded = await loadMailTemplates(pool);
        expect(loaded).toEqual(body);
        expect(renderSystemMail(loaded, 'welcome', 'en', { address: 'lee@acme.test', domain: 'acme.test' }).subject).toBe('Your new mailbox lee@acme.test at acme.test');
        expect(renderSystemMail(loaded, 'quotaWarning', 'zh-CN', { displayName: '李', usedPercent: 91, used: '931 MB', quota: '1 GB' }).body).toBe(
          '李：邮箱已用 91%（931 MB / 1 GB）。',
        );
      } finally {
        await pool.end();
      }
      expect(event.before.welcome.en.subject).toBe(DEFAULT_MAIL_TEMPLATES.welcome.en.subject);
    });

    it('refuses unknown placeholders and missing languages, naming the field', async () => {
      const before = await stored('templates');
      const bad = structuredClone(DEFAULT_MAIL_TEMPLATES);
      bad.welcome.en.body = 'Your password is {{password}}';
      const r = await api.request('PUT', '/api/settings/templates', { token: op, body: bad });
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('welcome.en.body');
      expect(r.body.message).toContain('{{password}}');
      expect(r.body.message).toContain('use one of {{address}}, {{displayName}}, {{domain}}, {{quota}}');
      // The names delivery used to fill are refused too, saying what they became.
      const renamed = structuredClone(DEFAULT_MAIL_TEMPLATES);
      renamed.quotaWarning['zh-CN'].body = '已使用 {{usedMB}} MB';
      const old = await api.request('PUT', '/api/settings/templates', { token: op, body: renamed });
      expect(old.status).toBe(400);
      expect(old.body.field).toBe('quotaWarning.zh-CN.body');
      expect(old.body.message).toContain('{{usedMB}} is now {{used}}');

      const { 'zh-CN': _zh, ...onlyEnglish } = DEFAULT_MAIL_TEMPLATES.quotaWarning;
      const missing = await api.request('PUT', '/api/settings/templates', { token: op, body: { ...DEFAULT_MAIL_TEMPLATES, quotaWarning: onlyEnglish } });
      expect(missing.status).toBe(400);
      expect(missing.body.field).toBe('quotaWarning.zh-CN');
      expect(await stored('templates')).toEqual(before);
    });

    it('previews a template with sample values in zh-CN and en, saved or drafted, as delivery fills it', async () => {
      const preview = (body: unknown, token = op) => api.request('POST', '/api/settings/templates/preview', { token, body });
      await api.request('PUT', '/api/settings/templates', { token: op, body: DEFAULT_MAIL_TEMPLATES });
      const both = await preview({ kind: 'quotaWarning' });
      expect(both.status, JSON.stringify(both.body)).toBe(200);
      expect(both.body.items.map((i: any) => i.language)).toEqual(['zh-CN', 'en']);
      const [zh, en] = both.body.items;
      expect(zh.subject).toBe('邮箱空间即将用完（已用 89%）');
      expect(zh.body).toContain('张伟，您好');
      expect(zh.body).toContain('您的邮箱 zhang.wei@example.com 已使用 912 MB，共 1 GB（89%）。');
      expect(en.subject).toBe('Your mailbox is almost full (89% used)');
      expect(en.body).toContain('your mailbox sam.lee@example.com uses 912 MB of 1 GB (89%).');
      for (const i of both.body.items) expect(`${i.subject}${i.body}`).not.toContain('{{');

      const welcome = await preview({ kind: 'welcome', language: 'en' });
      expect(welcome.body.items).toHaveLength(1);
      expect(welcome.body.items[0].body).toContain('The example.com mail service');

      const draft = await preview({ kind: 'welcome', language: 'zh-CN', draft: { subject: '你好 {{displayName}}', body: '{{address}}：{{quota}}' } });
      expect(draft.status).toBe(200);
      expect(draft.body.items).toEqual([
        expect.objectContaining({ language: 'zh-CN', subject: '你好 张伟', body: 'zhang.wei@example.com：1 GB' }),
      ]);

      const unknown = await preview({ kind: 'welcome', language: 'en', draft: { subject: 'Hi', body: 'used {{used}}' } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.field).toBe('draft.body');
      expect(unknown.body.message).toContain('unknown placeholder {{used}}; use one of {{address}}, {{displayName}}, {{domain}}, {{quota}}');
      const noLanguage = await preview({ kind: 'welcome', draft: { subject: 'Hi', body: 'x' } });
      expect(noLanguage.status).toBe(400);
      expect(noLanguage.body.field).toBe('language');
      expect((await preview({ kind: 'goodbye' })).status).toBe(400);
      expect((await preview({ kind: 'welcome' }, tenantAdmin)).status).toBe(403);
    });

    it('has a welcomeMailEnabled setting, on by default, described', async () => {
      const r = await api.request('GET', '/api/settings/smtp', { token: op });
      expect(r.body.defaults.welcomeMailEnabled).toBe(true);
      const docs = await api.request('GET', '/api/docs-json');
      expect(JSON.stringify(docs.body)).toContain('put the welcome mail');
    });
  });
});

const SETTINGS_CHANNEL_UNPREFIXED = 'settings:changed';
