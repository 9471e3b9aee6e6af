import { z } from 'zod';
import { isoDate, pageOf, pageQuery } from './common.contract';

export const registrationCodeStatus = z
  .enum(['issued', 'redeemed', 'revoked', 'expired'])
  .describe('issued: not bound to a tenant yet; redeemed: bound and limiting a tenant; revoked or expired: no longer usable');

const codeCount = (what: string) => z.number().int().min(1, `${what} must be at least 1`).max(100_000_000);

export const createRegistrationCodeRequest = z.object({
  domain: z.string().trim().min(1, 'the domain is empty').max(253).describe('the domain the code binds; international names are stored in punycode'),
  maxDomains: codeCount('maxDomains').describe('most domains the redeeming tenant may have, the bound domain included'),
  maxMailboxes: codeCount('maxMailboxes').describe('most mailboxes the redeeming tenant may have'),
  expiresAt: z.iso.datetime({ offset: true }).optional().describe('last moment the code can be redeemed; absent: never expires'),
});

export const redeemRegistrationCodeRequest = z.object({
  code: z.string().trim().min(1, 'paste the registration code').max(2000).describe('the code as issued: DIZI1-…'),
  tenantId: z.uuid().optional().describe('tenant to bind the code to; operators must name it, tenant admins may leave it out (their own)'),
});

export const registrationCodeListQuery = pageQuery.extend({
  tenantId: z.uuid().optional().describe('codes bound to this tenant'),
  status: registrationCodeStatus.optional(),
});

export const registrationCodeView = z.object({
  id: z.string(),
  domain: z.string(),
  maxDomains: z.number().int(),
  maxMailboxes: z.number().int(),
  status: registrationCodeStatus,
  issuedBy: z.string(),
  issuedAt: isoDate,
  expiresAt: isoDate.nullable(),
  tenantId: z.string().nullable().describe('tenant the code is bound to'),
  redeemedAt: isoDate.nullable(),
  revokedAt: isoDate.nullable(),
});

export const issuedRegistrationCodeView = registrationCodeView.extend({
  code: z.string().describe('the signed code to hand to the customer; shown only now'),
});

export const registrationCodePage = pageOf(registrationCodeView);
