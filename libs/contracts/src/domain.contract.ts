import { z } from 'zod';
import { byteLimit, countLimit, isoDate, pageOf, pageQuery } from './common.contract';

export const domainStatus = z.enum(['active', 'disabled']);

const hostname = z
  .string()
  .trim()
  .max(253)
  .regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/, 'must be a host name like mail.example.com');

/** Settings a domain admin may change on their own domain. */
export const domainAdminSettings = z.object({
  heloName: hostname.nullable().describe('name this domain presents in SMTP HELO/EHLO; null uses the node name'),
  allowRegistration: z.boolean().describe('users may sign themselves up'),
  smtpEnabled: z.boolean(),
  pop3Enabled: z.boolean(),
  imapEnabled: z.boolean(),
  localOnly: z.boolean().describe('mailboxes may only send to local domains'),
  mailboxDefaultQuotaBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('quota given to new mailboxes'),
  mailboxMaxQuotaBytes: byteLimit.describe('largest quota one mailbox may have; null: no limit'),
  mailboxDailySendLimit: countLimit.describe('messages one mailbox may send per day; null: no limit'),
});

/** Settings that need a tenant admin (limits, status) or an operator (the installation's default domain). */
export const domainTenantSettings = z.object({
  status: domainStatus,
  maxStorageBytes: byteLimit.describe('total of all mailbox quotas in the domain; null: no limit'),
  maxMailboxes: countLimit,
  isDefault: z.boolean().describe("users of the installation's default domain may sign in without @domain (operators only)"),
});

export const createDomainRequest = domainAdminSettings
  .merge(domainTenantSettings)
  .partial()
  .extend({
    name: z.string().min(1).max(253).describe('domain name; international names are stored in punycode'),
    tenantId: z.uuid().optional().describe("owner tenant; tenant admins may leave it out (their own)"),
  });

export const updateDomainRequest = domainAdminSettings.merge(domainTenantSettings).partial().strict();

export const domainListQuery = pageQuery.extend({
  tenantId: z.uuid().optional(),
  q: z.string().trim().max(253).optional().describe('part of the domain name'),
  status: domainStatus.optional(),
});

export const deleteDomainRequest = z.object({
  confirm: z.string().describe('repeat the domain name: every mailbox of the domain and its mail is deleted'),
});

export const domainView = z.object({
  id: z.string(),
  tenantId: z.string(),
  name: z.string(),
  unicodeName: z.string(),
  status: domainStatus,
  heloName: z.string().nullable(),
  maxStorageBytes: z.number().int().nullable(),
  maxMailboxes: z.number().int().nullable(),
  isDefault: z.boolean(),
  allowRegistration: z.boolean(),
  smtpEnabled: z.boolean(),
  pop3Enabled: z.boolean(),
  imapEnabled: z.boolean(),
  localOnly: z.boolean(),
  mailboxDefaultQuotaBytes: z.number().int(),
  mailboxMaxQuotaBytes: z.number().int().nullable(),
  mailboxDailySendLimit: z.number().int().nullable(),
  dkimSelector: z.string(),
  usage: z.object({ mailboxes: z.number().int(), usedBytes: z.number().int(), allocatedBytes: z.number().int() }),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const domainPage = pageOf(domainView);

export const dnsRecord = z.object({
  kind: z.enum(['mx', 'spf', 'dkim', 'dmarc', 'srv', 'mta-sts']).describe('what the record is for'),
  type: z.enum(['MX', 'TXT', 'SRV']),
  name: z.string(),
  value: z.string().describe('the value to set, as written in a zone file'),
  purpose: z.string(),
});
export const domainDnsView = z.object({ domain: z.string(), records: z.array(dnsRecord) });

export const dnsCheckStatus = z.enum(['found', 'missing', 'wrong', 'error']);

export const dnsRecordCheck = dnsRecord.extend({
  status: dnsCheckStatus.describe('found: published as it should be; missing: nothing at that name; wrong: something else is there (set `value`); error: the lookup failed'),
  reason: z.enum(['different', 'duplicate', 'weak-policy']).optional().describe('why a record is wrong: another value, two records where one is allowed, or a DMARC policy of none'),
  found: z.array(z.string()).describe('what the resolver answered at that name, written like `value`'),
});
export const domainDnsCheckView = z.object({
  domain: z.string(),
  checkedAt: isoDate,
  records: z.array(dnsRecordCheck),
});
