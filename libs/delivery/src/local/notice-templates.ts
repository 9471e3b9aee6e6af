/**
 * The mails the system writes itself (quota warning, welcome): their texts come from the operators' templates
 * (system_setting `templates`, validated and defaulted by libs/contracts/src/settings.contract.ts, the one list of
 * placeholders). Mailboxes carry no language, so a notice holds both languages, Chinese first.
 */
import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { MailTemplates, renderMailTemplate, TEMPLATE_LANGUAGES, TemplateKind } from '@dizi/contracts/settings.contract';

/** Subject and body of one notice in both languages, placeholders filled; unknown ones stay as written. */
export function bilingualNotice(templates: MailTemplates, kind: TemplateKind, values: Record<string, string | number>): { subject: string; body: string } {
  const [zh, en] = TEMPLATE_LANGUAGES.map((l) => ({
    subject: renderMailTemplate(templates[kind][l].subject, values),
    body: renderMailTemplate(templates[kind][l].body, values),
  }));
  return { subject: `${zh.subject} / ${en.subject}`, body: `${zh.body}\n----------------------------------------\n\n${en.body}` };
}

export interface ComposedMail {
  raw: Buffer;
  messageId: string;
}

export interface MailToCompose {
  from: { name: string; address: string };
  to: string;
  subject: string;
  text: string;
  hostname: string;
  headers?: Record<string, string>;
  inReplyTo?: string | null;
  references?: string[];
  date?: Date;
}

/** A plain-text UTF-8 message with proper MIME encoding (nodemailer's composer), CRLF line ends. */
export async function composeMail(m: MailToCompose): Promise<ComposedMail> {
  const messageId = `<${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${m.hostname}>`;
  const composer = new MailComposer({
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text.replace(/\r?\n/g, '\r\n'),
    messageId,
    date: m.date ?? new Date(),
    headers: m.headers,
    inReplyTo: m.inReplyTo ?? undefined,
    references: m.references && m.references.length > 0 ? m.references.join(' ') : undefined,
  });
  const raw = await composer.compile().build();
  return { raw, messageId };
}
