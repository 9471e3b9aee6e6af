/** Operators' and tenant admins' view of the mail log (SMTP sessions and delivery attempts). */
import { z } from 'zod';
import { isoDate, pageQuery } from './common.contract';

export const MAIL_LOG_LEVELS = ['info', 'warn', 'error'] as const;
export const MAIL_LOG_KINDS = ['session', 'delivery', 'outbound', 'bounce'] as const;

const when = z.iso.datetime({ offset: true });

export const mailLogQuery = pageQuery
  .extend({
    from: when.optional().describe('records at or after this time'),
    to: when.optional().describe('records before this time'),
    level: z.enum(MAIL_LOG_LEVELS).optional().describe('this level and above: warn gives warn and error'),
    kind: z.enum(MAIL_LOG_KINDS).optional(),
    q: z.string().trim().min(1).max(320).optional().describe('text in the sender, recipients or reason (case-insensitive)'),
    sessionId: z.string().trim().min(1).max(200).optional(),
    messageId: z.uuid().optional().describe('the spooled message'),
    tenantId: z.uuid().optional().describe("records of this tenant (tenant admins: only their own)"),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from must not be after to', path: ['from'] });

export const mailLogView = z.object({
  id: z.string(),
  at: isoDate,
  level: z.enum(MAIL_LOG_LEVELS),
  kind: z.enum(MAIL_LOG_KINDS),
  node: z.string(),
  sessionId: z.string().nullable(),
  messageId: z.string().nullable(),
  clientIp: z.string().nullable(),
  helo: z.string().nullable(),
  mailFrom: z.string().nullable(),
  recipients: z.array(z.string()),
  size: z.number().int().nullable(),
  result: z.string(),
  reason: z.string(),
  tenantId: z.string().nullable(),
});

export const mailLogPage = z.object({
  items: z.array(mailLogView),
  total: z.number().int().describe('matching records, counted up to 10000'),
  totalIsLowerBound: z.boolean().describe('true when more records match than were counted'),
  offset: z.number().int(),
  limit: z.number().int(),
});
