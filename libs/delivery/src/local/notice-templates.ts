/**
 * Texts of the mails the system writes itself (quota warning, welcome), editable by operators in system_setting
 * `templates`: `{ quotaWarning: { 'zh-CN': { subject, body }, en: { subject, body } }, welcome: { ... } }`.
 * Mailboxes carry no language, so a notice holds both languages, Chinese first. `{{name}}` placeholders are filled
 * from the values given; unknown ones stay as written so a typo shows instead of vanishing.
 */
import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { z } from 'zod';

export const NOTICE_KINDS = ['quotaWarning', 'welcome'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];
export const NOTICE_LANGUAGES = ['zh-CN', 'en'] as const;

const text = z.object({ subject: z.string().max(500), body: z.string().max(20_000) });
const notice = z.object({ 'zh-CN': text, en: text }).partial();
export const noticeTemplates = z.object({ quotaWarning: notice, welcome: notice }).partial();
export type NoticeTemplates = z.infer<typeof noticeTemplates>;

export const DEFAULT_NOTICE_TEMPLATES: Record<NoticeKind, Record<(typeof NOTICE_LANGUAGES)[number], { subject: string; body: string }>> = {
  quotaWarning: {
    'zh-CN': {
      subject: '邮箱空间即将用完（已用 {{usedPercent}}%）',
      body: '您好，\n\n您的邮箱 {{address}} 已使用 {{usedMB}} MB，共 {{quotaMB}} MB（{{usedPercent}}%）。\n空间用完后新邮件将被退回。请删除不需要的邮件（并清空“已删除”文件夹），或联系管理员增加空间。\n',
    },
    en: {
      subject: 'Your mailbox is almost full ({{usedPercent}}% used)',
      body: 'Hello,\n\nYour mailbox {{address}} uses {{usedMB}} MB of {{quotaMB}} MB ({{usedPercent}}%).\nOnce it is full, new mail will be returned to its senders. Please delete mail you no longer need (and empty Trash), or ask your administrator for more space.\n',
    },
  },
  welcome: {
    'zh-CN': {
      subject: '欢迎使用您的新邮箱 {{address}}',
      body: '您好 {{displayName}}，\n\n您的邮箱 {{address}} 已开通，空间 {{quotaMB}} MB。\n您可以通过网页邮箱或 IMAP、POP3、SMTP 客户端收发邮件。\n',
    },
    en: {
      subject: 'Welcome to your new mailbox {{address}}',
      body: 'Hello {{displayName}},\n\nYour mailbox {{address}} is ready, with {{quotaMB}} MB of space.\nRead and send mail in webmail or with any IMAP, POP3 and SMTP client.\n',
    },
  },
};

export function fillPlaceholders(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole);
}

/** The operators' templates over the defaults, field by field. */
export function resolveNotice(stored: unknown, kind: NoticeKind): { subject: string; body: string } {
  const parsed = noticeTemplates.safeParse(stored ?? {});
  const custom = parsed.success ? parsed.data[kind] ?? {} : {};
  const zh = { ...DEFAULT_NOTICE_TEMPLATES[kind]['zh-CN'], ...custom['zh-CN'] };
  const en = { ...DEFAULT_NOTICE_TEMPLATES[kind].en, ...custom.en };
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
