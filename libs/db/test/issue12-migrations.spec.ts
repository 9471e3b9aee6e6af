/**
 * Issue 12's data migrations on rows written by the code before them: the mail log's domain of each delivery,
 * bounce and outbound record (domain admins read their own), and stored templates with the old placeholder names.
 */
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/data-source';
import { MailLogDomain1765500000000 } from '../src/migrations/1765500000000-mail-log-domain';
import { renamePlaceholders } from '../src/migrations/1765520000000-template-placeholder-names';
import { schemaBefore, type SchemaBefore } from './schema-before';


/** As an operator could store them before: delivery's names, each followed by its unit. */
const OLD_TEMPLATES = {
  quotaWarning: {
    'zh-CN': { subject: '已用 {{usedPercent}}%', body: '已使用 {{usedMB}} MB，共 {{ quotaMB }} MB。' },
    en: { subject: 'Almost full', body: 'You use {{usedMB}} MB of {{quotaMB}}MB; {{used}} stays.' },
  },
  welcome: {
    'zh-CN': { subject: '欢迎 {{address}}', body: '空间 {{quotaMB}} MB' },
    en: { subject: 'Welcome {{address}}', body: 'Space: {{quotaMB}} MB' },
  },
};

describe("issue 12's migrations", () => {
  let schema: SchemaBefore;
  let db: DataSource;
  let domains: Record<string, string>;

  beforeAll(async () => {
    schema = await schemaBefore(MailLogDomain1765500000000);
    const { old } = schema;
    const [t] = await old.query(`INSERT INTO tenant (name) VALUES ('t') RETURNING id`);
    domains = {};
    for (const d of ['a.test', 'b.test']) {
      const [row] = await old.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, $2, $2) RETURNING id`, [t.id, d]);
      domains[d] = row.id;
    }
    const rows: [string, string, string[], string][] = [
      ['delivery', 'x@remote.test', ['Lee@A.test'], 'a-delivery'],
      ['bounce', 'x@remote.test', ['gone@b.test'], 'b-bounce'],
      ['outbound', 'boss@b.test', ['far@remote.test'], 'b-outbound'],
      ['outbound', 'x@remote.test', ['y@remote.test'], 'nobody'],
      ['session', 'x@remote.test', ['lee@a.test'], 'session'],
    ];
    for (const [kind, from, to, reason] of rows) {
      await old.query(`INSERT INTO mail_log (level, kind, node, mail_from, recipients, result, reason, tenant_id) VALUES ('info', $1, 'n', $2, $3, 'ok', $4, $5)`, [
        kind, from, to, reason, t.id,
      ]);
    }
    await old.query(`INSERT INTO system_setting (key, value) VALUES ('templates', $1::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [
      JSON.stringify(OLD_TEMPLATES),
    ]);
    db = await schema.reopen();
    await migrate(db);
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it("gives each delivery, bounce and outbound record its recipient's domain, else its sender's; sessions none", async () => {
    const rows: { reason: string; domain_id: string | null }[] = await db.query(`SELECT reason, domain_id FROM mail_log ORDER BY id`);
    expect(Object.fromEntries(rows.map((r) => [r.reason, r.domain_id]))).toEqual({
      'a-delivery': domains['a.test'],
      'b-bounce': domains['b.test'],
      'b-outbound': domains['b.test'],
      nobody: null,
      session: null,
    });
  });

  it('rewrites stored templates to the one set of placeholder names, dropping the unit after the old ones', async () => {
    const [{ value }] = await db.query(`SELECT value FROM system_setting WHERE key = 'templates'`);
    expect(value).toEqual({
      quotaWarning: {
        'zh-CN': { subject: '已用 {{usedPercent}}%', body: '已使用 {{used}}，共 {{quota}}。' },
        en: { subject: 'Almost full', body: 'You use {{used}} of {{quota}}; {{used}} stays.' },
      },
      welcome: {
        'zh-CN': { subject: '欢迎 {{address}}', body: '空间 {{quota}}' },
        en: { subject: 'Welcome {{address}}', body: 'Space: {{quota}}' },
      },
    });
    expect(renamePlaceholders('{{address}} {{ used }}')).toBe('{{address}} {{ used }}');
  });
});
