import { z } from 'zod';
import { ROLES } from '@dizi/domain/roles';

export const loginRequest = z.object({
  username: z.string().min(1).max(320).describe('mailbox address, or the name alone for the default domain'),
  password: z.string().min(1).max(1024),
});

export const operatorLoginRequest = z.object({
  username: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
});

export const refreshRequest = z.object({ refreshToken: z.string().min(10).max(200) });

export const changePasswordRequest = z.object({
  currentPassword: z.string().min(1).max(1024),
  newPassword: z.string().min(8, 'the new password needs at least 8 characters').max(1024),
});

export const actorView = z.object({
  role: z.enum(ROLES),
  kind: z.enum(['operator-account', 'mailbox', 'oidc', 'api-key']),
  id: z.string(),
  name: z.string(),
  tenantId: z.string().optional(),
  domainId: z.string().optional(),
  mailboxId: z.string().optional(),
});

export const tokenResponse = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('seconds until the access token expires'),
  actor: actorView,
});
