/** The system mails' texts (welcome, quota warning) as operators set them, for the delivery workers. */
import type { Pool } from 'pg';
import { MailTemplates, mailTemplatesFromStored, renderMailTemplate, TemplateKind, TemplateLanguage } from '@dizi/contracts/settings.contract';

/** system_setting `templates` over the defaults in code; read per use, as templates change rarely and mails are few. */
export async function loadMailTemplates(pool: Pick<Pool, 'query'>): Promise<MailTemplates> {
  const { rows } = await pool.query(`SELECT value FROM system_setting WHERE key = 'templates'`);
  return mailTemplatesFromStored(rows[0]?.value);
}

/** Subject and body of one template in one language with its placeholders filled. */
export function renderSystemMail(
  templates: MailTemplates,
  kind: TemplateKind,
  language: TemplateLanguage,
  values: Record<string, string | number>,
): { subject: string; body: string } {
  const t = templates[kind][language];
  return { subject: renderMailTemplate(t.subject, values), body: renderMailTemplate(t.body, values) };
}
