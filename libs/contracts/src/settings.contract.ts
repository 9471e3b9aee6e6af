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
export const TEMPLATE_KINDS = ['welcome', 'quotaWarning'] as const;
export type TemplateLanguage = (typeof TEMPLATE_LANGUAGES)[number];
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/** Placeholders each template may use, written `{{name}}` in subject and body. */
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
};

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

const templateText = z.object({
  subject: z.string().trim().min(1, 'the subject must not be empty').max(200, 'the subject is longer than 200 characters').refine((s) => !/[\r\n]/.test(s), 'the subject must be one line'),
  body: z.string().min(1, 'the body must not be empty').max(20_000, 'the body is longer than 20000 characters'),
});

function templateOf(kind: TemplateKind) {
  const allowed = TEMPLATE_PLACEHOLDERS[kind];
  return z
    .object(Object.fromEntries(TEMPLATE_LANGUAGES.map((l) => [l, templateText])) as Record<TemplateLanguage, typeof templateText>)
    .strict()
    .superRefine((byLanguage, ctx) => {
      for (const lang of TEMPLATE_LANGUAGES) {
        for (const part of ['subject', 'body'] as const) {
          for (const m of byLanguage[lang][part].matchAll(PLACEHOLDER)) {
            if (!(m[1] in allowed)) {
              ctx.addIssue({ code: 'custom', path: [lang, part], message: `unknown placeholder {{${m[1]}}}; use one of ${Object.keys(allowed).map((k) => `{{${k}}}`).join(', ')}` });
            }
          }
        }
      }
    });
}

export const mailTemplates = z
  .object({ welcome: templateOf('welcome'), quotaWarning: templateOf('quotaWarning') })
  .strict()
  .describe('subject and body per language; placeholders like {{address}} are listed in `placeholders`');
export type MailTemplates = z.infer<typeof mailTemplates>;

export const DEFAULT_MAIL_TEMPLATES: MailTemplates = {
  welcome: {
    'zh-CN': {
      subject: '欢迎使用您的新邮箱 {{address}}',
      body: '{{displayName}}，您好：\n\n您的邮箱 {{address}} 已经开通，存储空间为 {{quota}}。\n\n祝使用愉快！\n{{domain}} 邮件系统\n',
    },
    en: {
      subject: 'Welcome to your new mailbox {{address}}',
      body: 'Hello {{displayName}},\n\nyour mailbox {{address}} is ready, with {{quota}} of storage.\n\nEnjoy!\nThe {{domain}} mail service\n',
    },
  },
  quotaWarning: {
    'zh-CN': {
      subject: '您的邮箱已使用 {{usedPercent}}% 的存储空间',
      body: '{{displayName}}，您好：\n\n您的邮箱 {{address}} 已使用 {{used}}，占存储空间 {{quota}} 的 {{usedPercent}}%。\n空间用满后将无法接收新邮件，请删除不需要的邮件或联系管理员。\n',
    },
    en: {
      subject: 'Your mailbox is {{usedPercent}}% full',
      body: 'Hello {{displayName}},\n\nyour mailbox {{address}} uses {{used}} of its {{quota}} ({{usedPercent}}%).\nWhen it is full, new mail cannot be delivered: please delete mail you no longer need or ask your administrator.\n',
    },
  },
};

export const mailTemplatesView = z.object({
  values: mailTemplates.describe('the templates in force'),
  defaults: mailTemplates,
  placeholders: z.record(z.enum(TEMPLATE_KINDS), z.record(z.string(), z.string())).describe('placeholder name and meaning, per template'),
  updatedAt: z.string().nullable(),
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
  return text.replace(PLACEHOLDER, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
