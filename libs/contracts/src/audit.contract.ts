import { z } from 'zod';
import { ROLES } from '@dizi/domain/roles';
import { isoDate, pageOf, pageQuery } from './common.contract';

const when = z.iso.datetime({ offset: true });

export const auditListQuery = pageQuery
  .extend({
    tenantId: z.uuid().optional().describe("events of this tenant (tenant admins: only their own)"),
    action: z
      .string()
      .trim()
      .max(100)
      .optional()
      .describe('an action like domain.update, or a prefix ending in ".*" like domain.*'),
    objectType: z.string().trim().max(100).optional(),
    objectId: z.string().trim().max(200).optional(),
    actor: z.string().trim().max(320).optional().describe("the actor's id or name (an address, operator or key name)"),
    from: when.optional().describe('events at or after this time'),
    to: when.optional().describe('events before this time'),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from must not be after to', path: ['from'] });

const snapshot = z.record(z.string(), z.unknown()).nullable().describe('the object as it was, secrets left out');

export const auditEventView = z.object({
  id: z.string(),
  at: isoDate,
  actor: z.object({
    kind: z.string().describe('operator-account, mailbox, oidc or api-key'),
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
  }),
  ip: z.string().nullable(),
  tenantId: z.string().nullable(),
  action: z.string(),
  objectType: z.string(),
  objectId: z.string().nullable(),
  before: snapshot,
  after: snapshot,
});

export const auditPage = pageOf(auditEventView);
