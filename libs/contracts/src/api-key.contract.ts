import { z } from 'zod';
import { isoDate, pageOf, pageQuery } from './common.contract';

export const apiKeyRole = z.enum(['operator', 'tenant_admin']);
export const apiKeyStatus = z.enum(['active', 'revoked', 'expired']);

export const createApiKeyRequest = z.object({
  name: z.string().trim().min(1, 'give the key a name saying which machine uses it').max(100),
  role: apiKeyRole.describe('operator keys act for the whole installation; tenant_admin keys for one tenant'),
  tenantId: z.uuid().optional().describe('required for tenant_admin keys (tenant admins may leave it out: their own); absent for operator keys'),
  expiresAt: z.iso.datetime({ offset: true }).optional().describe('the key stops working then; absent: until revoked'),
});

export const apiKeyListQuery = pageQuery.extend({
  tenantId: z.uuid().optional(),
  status: apiKeyStatus.optional(),
});

export const apiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  role: apiKeyRole,
  tenantId: z.string().nullable(),
  prefix: z.string().describe('public part of the key (dzk_<prefix>_…), to recognise it'),
  status: apiKeyStatus,
  createdBy: z.string(),
  createdAt: isoDate,
  expiresAt: isoDate.nullable(),
  lastUsedAt: isoDate.nullable().describe('approximate, to the minute'),
  revokedAt: isoDate.nullable(),
});

export const createdApiKeyView = apiKeyView.extend({
  key: z.string().describe('the secret key; shown only now, send it as X-API-Key or Authorization: Bearer'),
});

export const apiKeyPage = pageOf(apiKeyView);
