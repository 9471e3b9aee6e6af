import { z } from 'zod';
import { byteLimit, countLimit, isoDate, pageOf, pageQuery } from './common.contract';

export const tenantStatus = z.enum(['active', 'suspended']);

export const createTenantRequest = z.object({
  name: z.string().trim().min(1, 'the tenant name is empty').max(200),
  plan: z.string().trim().min(1).max(64).default('standard'),
  maxDomains: countLimit.optional().describe('null or absent: no limit'),
  maxMailboxes: countLimit.optional(),
  maxStorageBytes: byteLimit.optional(),
});

export const updateTenantRequest = z
  .object({
    name: z.string().trim().min(1, 'the tenant name is empty').max(200),
    plan: z.string().trim().min(1).max(64),
    maxDomains: countLimit,
    maxMailboxes: countLimit,
    maxStorageBytes: byteLimit,
  })
  .partial()
  .strict();

export const tenantListQuery = pageQuery.extend({
  q: z.string().trim().max(200).optional().describe('part of the tenant name'),
  status: tenantStatus.optional(),
});

export const deleteTenantRequest = z.object({
  confirm: z.string().describe('repeat the tenant name to confirm; every domain, mailbox and message goes'),
});

export const tenantView = z.object({
  id: z.string(),
  name: z.string(),
  plan: z.string(),
  status: tenantStatus,
  maxDomains: z.number().int().nullable(),
  maxMailboxes: z.number().int().nullable(),
  maxStorageBytes: z.number().int().nullable(),
  usage: z.object({ domains: z.number().int(), mailboxes: z.number().int(), storageBytes: z.number().int() }),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const tenantPage = pageOf(tenantView);
