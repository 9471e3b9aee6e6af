import { z } from 'zod';
import { MAILBOX_ROLES } from '@dizi/domain/roles';
import { isoDate, pageOf, pageQuery } from './common.contract';

export const mailboxStatus = z.enum(['active', 'suspended']);
export const mailboxRole = z.enum(MAILBOX_ROLES);

const password = z
  .string()
  .min(8, 'the password needs at least 8 characters')
  .max(1024, 'the password is longer than 1024 characters');
const displayName = z
  .string()
  .trim()
  .max(200, 'the display name is longer than 200 characters')
  // eslint-disable-next-line no-control-regex -- the point: refuse control characters
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'the display name must not contain control characters');
const quotaBytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('storage quota in bytes');
const dailySendLimit = z.number().int().min(0).max(100_000_000).nullable().describe("messages per day; null: the domain's limit");

/** Settings shared by create and update. */
const mailboxSettings = z.object({
  displayName,
  role: mailboxRole.describe('user, domain_admin or tenant_admin; you can grant at most your own role'),
  maySendOutside: z.boolean().describe('may send to domains outside the installation'),
  quotaBytes,
  dailySendLimit,
});

export const createMailboxRequest = mailboxSettings
  .partial()
  .extend({
    address: z.string().trim().max(320).optional().describe('full address; or give domain and localPart'),
    domain: z.string().trim().max(253).optional().describe('domain id or name, with localPart'),
    localPart: z.string().trim().max(64).optional(),
    password: password.optional().describe('left out: a random password is generated and returned once'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.address && !(v.domain && v.localPart)) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'give the full address, or domain and localPart' });
    }
    if (v.address && (v.domain || v.localPart)) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'give either the full address or domain and localPart, not both' });
    }
  });

export const updateMailboxRequest = mailboxSettings.partial().strict();

export const mailboxListQuery = pageQuery.extend({
  domain: z.string().trim().max(253).optional().describe('domain id or name'),
  tenantId: z.uuid().optional(),
  q: z.string().trim().min(1).max(320).optional().describe('fragment of the local part, address or display name (case-insensitive)'),
  initial: z
    .string()
    .regex(/^[a-zA-Z0-9]$/, 'must be one letter or digit')
    .optional()
    .describe('local parts starting with this letter or digit'),
  status: mailboxStatus.optional(),
  role: mailboxRole.optional(),
});

export const setPasswordRequest = z.object({ password }).strict();

export const bulkDeleteMailboxesRequest = z
  .object({
    ids: z.array(z.uuid()).max(1000).optional(),
    addresses: z.array(z.string().trim().min(1).max(320)).max(1000).optional(),
  })
  .strict()
  .refine((v) => (v.ids?.length ?? 0) + (v.addresses?.length ?? 0) > 0, { message: 'list at least one mailbox in ids or addresses', path: ['ids'] })
  .refine((v) => (v.ids?.length ?? 0) + (v.addresses?.length ?? 0) <= 1000, { message: 'at most 1000 mailboxes at once', path: ['ids'] });

export const mailboxView = z.object({
  id: z.string(),
  tenantId: z.string(),
  domainId: z.string(),
  address: z.string(),
  localPart: z.string(),
  displayName: z.string(),
  role: mailboxRole,
  status: mailboxStatus,
  maySendOutside: z.boolean(),
  dailySendLimit: z.number().int().nullable(),
  quotaBytes: z.number().int(),
  usedBytes: z.number().int(),
  messageCount: z.number().int(),
  usedPercent: z.number().describe('usedBytes of quotaBytes in percent, one decimal; 0 when the quota is 0'),
  createdAt: isoDate,
  updatedAt: isoDate,
});

/** A created mailbox; `password` only when it was generated, shown this once. */
export const createdMailboxView = mailboxView.extend({
  password: z.string().optional().describe('the generated password, shown only in this response'),
});

export const mailboxPage = pageOf(mailboxView).extend({
  totalCapped: z.boolean().describe('true when more than 1,000 mailboxes match: total then reads 1,001 (refine the search)'),
});

export const generatedPasswordView = z.object({ password: z.string().describe('the new password, shown only in this response') });

export const bulkDeleteResult = z.object({ deleted: z.number().int(), ids: z.array(z.string()) });

// Batch import (CSV).
export const importJobStatus = z.enum(['running', 'done', 'failed', 'interrupted']);
export const importRowOutcome = z.enum(['created', 'skipped', 'failed']);

export const mailboxImportQuery = z.object({
  rehome: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('true: put every row into this domain keeping its local part (moving mailboxes from another domain)'),
});

export const importAccepted = z.object({ jobId: z.string().describe('follow it at GET /api/imports/{jobId}') });

export const importJobView = z.object({
  id: z.string(),
  tenantId: z.string(),
  domainId: z.string().nullable(),
  kind: z.string(),
  status: importJobStatus,
  processed: z.number().int().describe('rows read so far'),
  created: z.number().int().describe('mailboxes created (while running: rows that will create one); 0 when the import failed or was interrupted'),
  skipped: z.number().int().describe('rows whose mailbox already exists'),
  failed: z.number().int().describe('rows refused; GET /api/imports/{id}/rows?outcome=failed says why'),
  error: z.string().nullable().describe('why the whole import failed or stopped; nothing of it was saved then'),
  startedBy: z.string(),
  createdAt: isoDate,
  finishedAt: isoDate.nullable(),
  heartbeatAt: isoDate,
});

export const importRowsQuery = pageQuery.extend({ outcome: importRowOutcome.optional() });

export const importRowView = z.object({
  line: z.number().int().describe('line number in the file'),
  address: z.string(),
  outcome: importRowOutcome,
  reason: z.string(),
});

export const importRowPage = pageOf(importRowView);
