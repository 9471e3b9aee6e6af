/**
 * The operators' settings API: SMTP settings shown with their defaults and changed field by field,
 * and the texts of the system mails (welcome, quota warning) with their placeholders.
 */
import { z } from 'zod';
import { smtpSettings } from './mail-settings.contract';

type Shape = Record<string, z.ZodType>;

/**
 * The settings object with every field optional, nullable and WITHOUT its default: a PATCH must
 * say only what changes (zod's partial() would fill every default back in). `null` resets a field.
 * Unknown fields are refused so a misspelt name is a 400, not silently ignored.
 */
function patchOf(shape: Shape): z.ZodObject {
  const out: Shape = {};
  for (const [key, field] of Object.entries(shape)) {
    let inner: z.ZodType = field;
    while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault) inner = inner.def.innerType as z.ZodType;
    out[key] = (inner instanceof z.ZodObject ? patchOf(inner.shape as Shape) : inner).nullable().optional();
  }
  return z.object(out).strict();
}

export const smtpSettingsPatch = patchOf(smtpSettings.shape as Shape).describe(
  'only the fields to change; null puts a field back to its default; relay.password is write-only ("" clears it)',
) as z.ZodObject;

export type SmtpSettingsPatch = {
  [K in keyof z.input<typeof smtpSettings>]?: K extends 'relay'
    ? { [R in keyof NonNullable<z.input<typeof smtpSettings>['relay']>]?: NonNullable<z.input<typeof smtpSettings>['relay']>[R] | null } | null
    : z.input<typeof smtpSettings>[K] | null;
};

/** The relay as shown: the password never leaves the server, only whether one is set. */
const relayView = smtpSettings.shape.relay.unwrap().omit({ password: true }).extend({ passwordSet: z.boolean() });
export const smtpSettingsValues = smtpSettings.omit({ relay: true }).extend({ relay: relayView });

export const smtpSettingsView = z.object({
  values: smtpSettingsValues.describe('the settings in force: stored values over the defaults'),
  defaults: smtpSettingsValues.describe("the product's defaults"),
  overridden: z.array(z.string()).describe('fields whose stored value replaces the default, like maxRecipients or relay.host'),
  updatedAt: z.string().nullable(),
});

export type SmtpSettingsValues = z.infer<typeof smtpSettingsValues>;

// ---- system mail templates ----

export const TEMPLATE_LANGUAGES = ['zh-CN', 'en'] as const;
export const TEMPLATE_KINDS = ['welcome', 'quotaWarning', 'quarantineDigest'] as const;
export type TemplateLanguage = (typeof TEMPLATE_LANGUAGES)[number];
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/**
 * Placeholders each template may use, written `{{name}}` in subject and body: the one list the API validates
 * against and delivery fills in (libs/delivery/src/local/system-notices.ts, from `noticeValues`).
 */
export const TEMPLATE_PLACEHOLDERS: Record<TemplateKind, Record<string, string>> = {
  welcome: {
    address: 'the new mailbox address',
    displayName: "the mailbox owner's display name (the address when empty)",
    domain: 'the domain of the mailbox',
    quota: 'the storage quota, e.g. 1 GB',
  },
  quotaWarning: {
    address: 'the mailbox address',
    displayName: "the mailbox owner's display name (the address when empty)",
    usedPercent: 'how full the mailbox is, in percent',
    used: 'storage used, e.g. 912 MB',
    quota: 'the storage quota, e.g. 1 GB',
  },
  quarantineDigest: {
    address: 'the mailbox address',
    displayName: "the mailbox owner's display name (the address when empty)",
    count: 'how many messages were held since the last digest',
    list: 'one line per held message: date, sender, subject and why',
    retentionDays: 'days a held message is kept before it is deleted',
  },
};

/** Sample values of the placeholders only some templates have, for the preview. */
export const TEMPLATE_SAMPLE_EXTRAS: Record<TemplateLanguage, Record<string, string | number>> = {
  'zh-CN': { count: 2, list: '2026-03-02 08:15  promo@shop.example  限时特价（垃圾邮件，评分 11.2）\n2026-03-02 09:40  billing@pay.example  发票（病毒 Eicar-Test）', retentionDays: 30 },
  en: { count: 2, list: '2026-03-02 08:15  promo@shop.example  Special offer (spam, score 11.2)\n2026-03-02 09:40  billing@pay.example  Invoice (virus Eicar-Test)', retentionDays: 30 },
};

/**
 * Placeholder names of earlier releases (delivery filled `{{usedMB}}`/`{{quotaMB}}` with a bare number of MB) and
 * the name each became; migration 1765510000000 rewrites stored templates with them.
 */
export const RENAMED_PLACEHOLDERS: Record<string, string> = { usedMB: 'used', quotaMB: 'quota' };

const KB = 1024;
/** A size as people read it in a notice: 912 MB, 1 GB, 1.5 GB, 97.7 KB (binary units, at most one decimal). */
export function formatStorage(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= KB && unit < units.length - 1) {
    value /= KB;
    unit++;
  }
  const shown = unit === 0 || value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
  return `${shown} ${units[unit]}`;
}

/** What a template's placeholders say for one mailbox: the single place their values are made. */
export function noticeValues(mailbox: { address: string; displayName: string; domain: string; usedBytes: number; quotaBytes: number }): Record<string, string | number> {
  const { usedBytes: used, quotaBytes: quota } = mailbox;
  return {
    address: mailbox.address,
    displayName: mailbox.displayName || mailbox.address,
    domain: mailbox.domain,
    usedPercent: quota > 0 ? Math.min(100, Math.round((used * 100) / quota)) : 0,
    used: formatStorage(used),
    quota: formatStorage(quota),
  };
}

/** The mailbox the preview fills the placeholders from, per language. */
export const TEMPLATE_SAMPLE_MAILBOX: Record<TemplateLanguage, Parameters<typeof noticeValues>[0]> = {
  'zh-CN': { address: 'zhang.wei@example.com', displayName: '张伟', domain: 'example.com', usedBytes: 956_301_312, quotaBytes: 1024 ** 3 },
  en: { address: 'sam.lee@example.com', displayName: 'Sam Lee', domain: 'example.com', usedBytes: 956_301_312, quotaBytes: 1024 ** 3 },
};

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

const templateText = z.object({
  subject: z.string().trim().min(1, 'the subject must not be empty').max(200, 'the subject is longer than 200 characters').refine((s) => !/[\r\n]/.test(s), 'the subject must be one line'),
  body: z.string().min(1, 'the body must not be empty').max(20_000, 'the body is longer than 20000 characters'),
});

/** Each `{{name}}` in subject or body that `kind` does not fill, with a message naming it and the allowed ones. */
function unknownPlaceholders(kind: TemplateKind, text: { subject: string; body: string }): { part: 'subject' | 'body'; message: string }[] {
  const allowed = TEMPLATE_PLACEHOLDERS[kind];
  const out: { part: 'subject' | 'body'; message: string }[] = [];
  for (const part of ['subject', 'body'] as const) {
    for (const m of text[part].matchAll(PLACEHOLDER)) {
      if (!Object.prototype.hasOwnProperty.call(allowed, m[1])) {
        const renamed = RENAMED_PLACEHOLDERS[m[1]] ? ` ({{${m[1]}}} is now {{${RENAMED_PLACEHOLDERS[m[1]]}}})` : '';
        out.push({ part, message: `unknown placeholder {{${m[1]}}}${renamed}; use one of ${Object.keys(allowed).map((k) => `{{${k}}}`).join(', ')}` });
      }
    }
  }
  return out;
}

function templateOf(kind: TemplateKind) {
  return z
    .object(Object.fromEntries(TEMPLATE_LANGUAGES.map((l) => [l, templateText])) as Record<TemplateLanguage, typeof templateText>)
    .strict()
    .superRefine((byLanguage, ctx) => {
      for (const lang of TEMPLATE_LANGUAGES) {
        for (const issue of unknownPlaceholders(kind, byLanguage[lang])) ctx.addIssue({ code: 'custom', path: [lang, issue.part], message: issue.message });
      }
    });
}

export const mailTemplates = z
  .object({ welcome: templateOf('welcome'), quotaWarning: templateOf('quotaWarning'), quarantineDigest: templateOf('quarantineDigest') })
  .strict()
  .describe('subject and body per language; placeholders like {{address}} are listed in `placeholders`');
export type MailTemplates = z.infer<typeof mailTemplates>;

export const DEFAULT_MAIL_TEMPLATES: MailTemplates = {
  welcome: {
    'zh-CN': {
      subject: '欢迎使用您的新邮箱 {{address}}',
      body: '{{displayName}}，您好：\n\n您的邮箱 {{address}} 已经开通，存储空间为 {{quota}}。\n您可以通过网页邮箱或 IMAP、POP3、SMTP 客户端收发邮件。\n\n祝使用愉快！\n{{domain}} 邮件系统\n',
    },
    en: {
      subject: 'Welcome to your new mailbox {{address}}',
      body: 'Hello {{displayName}},\n\nyour mailbox {{address}} is ready, with {{quota}} of storage.\nRead and send mail in webmail or with any IMAP, POP3 and SMTP client.\n\nEnjoy!\nThe {{domain}} mail service\n',
    },
  },
  quotaWarning: {
    'zh-CN': {
      subject: '邮箱空间即将用完（已用 {{usedPercent}}%）',
      body: '{{displayName}}，您好：\n\n您的邮箱 {{address}} 已使用 {{used}}，共 {{quota}}（{{usedPercent}}%）。\n空间用完后新邮件将被退回。请删除不需要的邮件（并清空“已删除”文件夹），或联系管理员增加空间。\n',
    },
    en: {
      subject: 'Your mailbox is almost full ({{usedPercent}}% used)',
      body: 'Hello {{displayName}},\n\nyour mailbox {{address}} uses {{used}} of {{quota}} ({{usedPercent}}%).\nOnce it is full, new mail will be returned to its senders. Please delete mail you no longer need (and empty Trash), or ask your administrator for more space.\n',
    },
  },
  quarantineDigest: {
    'zh-CN': {
      subject: '隔离区中有 {{count}} 封新邮件',
      body: '{{displayName}}，您好：\n\n以下发给 {{address}} 的邮件被判定为垃圾邮件或带有病毒，已放入隔离区，没有投递到收件箱：\n\n{{list}}\n\n如果其中有您需要的邮件，请登录网页邮箱在“隔离区”中放行；隔离的邮件 {{retentionDays}} 天后自动删除。\n',
    },
    en: {
      subject: '{{count}} new messages in quarantine',
      body: 'Hello {{displayName}},\n\nthese messages to {{address}} were judged spam or found to carry a virus, and were held in quarantine instead of your INBOX:\n\n{{list}}\n\nIf you need one of them, release it from the quarantine in webmail; held messages are deleted after {{retentionDays}} days.\n',
    },
  },
};

export const mailTemplatesView = z.object({
  values: mailTemplates.describe('the templates in force'),
  defaults: mailTemplates,
  placeholders: z.record(z.enum(TEMPLATE_KINDS), z.record(z.string(), z.string())).describe('placeholder name and meaning, per template'),
  updatedAt: z.string().nullable(),
});

export const templatePreviewRequest = z
  .object({
    kind: z.enum(TEMPLATE_KINDS),
    language: z.enum(TEMPLATE_LANGUAGES).optional().describe('one language; both when absent'),
    draft: templateText.optional().describe('subject and body to try instead of the saved template (needs `language`)'),
  })
  .strict()
  .superRefine((req, ctx) => {
    if (req.draft && !req.language) ctx.addIssue({ code: 'custom', path: ['language'], message: 'say which language the draft is in' });
    if (!req.draft) return;
    for (const issue of unknownPlaceholders(req.kind, req.draft)) ctx.addIssue({ code: 'custom', path: ['draft', issue.part], message: issue.message });
  });
export type TemplatePreviewRequest = z.infer<typeof templatePreviewRequest>;

export const templatePreview = z.object({
  kind: z.enum(TEMPLATE_KINDS),
  items: z.array(
    z.object({
      language: z.enum(TEMPLATE_LANGUAGES),
      subject: z.string(),
      body: z.string(),
      values: z.record(z.string(), z.union([z.string(), z.number()])).describe('the sample values filled in'),
    }),
  ),
});

/** Stored templates over the defaults; a template that no longer validates falls back to its default. */
export function mailTemplatesFromStored(value: unknown): MailTemplates {
  const stored = value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const out = { ...DEFAULT_MAIL_TEMPLATES };
  for (const kind of TEMPLATE_KINDS) {
    const parsed = mailTemplates.shape[kind].safeParse(stored[kind]);
    if (parsed.success) out[kind] = parsed.data;
  }
  return out;
}

/** Fills `{{name}}` placeholders; unknown names are left as written so a mistake is visible, not silently blank. */
export function renderMailTemplate(text: string, values: Record<string, string | number>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole));
}
