/** Operators' view of the mail queue (spool recipients not yet final) and the fixed transport routes. */
import { z } from 'zod';
import { isoDate, pageOf, pageQuery } from './common.contract';

export const SPOOL_STATUSES = ['queued', 'deferred', 'delivered', 'bounced', 'failed', 'deleted'] as const;
/** What the queue lists: recipients still waiting. */
export const QUEUE_STATUSES = ['queued', 'deferred'] as const;

export const queueListQuery = pageQuery.extend({
  status: z.enum(QUEUE_STATUSES).optional().describe('queued: not tried yet; deferred: tried and waiting for a retry'),
  domain: z.string().trim().min(1).max(253).optional().describe('destination domain of the recipient'),
  q: z.string().trim().min(1).max(320).optional().describe('text in the sender or recipient address (case-insensitive)'),
  held: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === 'true')).describe('true: only held recipients; false: only those not held'),
  olderThanMinutes: z.coerce.number().int().min(1).max(525_600).optional().describe('only mail received at least this many minutes ago'),
});

export const queueEntryView = z.object({
  id: z.string().describe('the spooled recipient'),
  messageId: z.uuid().describe('the spooled message'),
  sender: z.string().describe("envelope sender; '' for the null sender (bounces)"),
  recipient: z.string(),
  originalRecipient: z.string().nullable(),
  kind: z.enum(['local', 'remote']),
  domain: z.string().describe('destination domain'),
  status: z.enum(SPOOL_STATUSES),
  source: z.enum(['smtp', 'submission', 'system']),
  size: z.number().int(),
  attempts: z.number().int(),
  receivedAt: isoDate,
  nextAttemptAt: isoDate.nullable().describe('null while held'),
  lastAttemptAt: isoDate.nullable(),
  lastError: z.string().nullable().describe('why it waits: the last failure'),
  lastReply: z.string().nullable(),
  heldAt: isoDate.nullable().describe('held by an operator since then: not tried until released'),
});

export const QUEUE_ACTIONS = ['retry', 'hold', 'release', 'delete'] as const;

export const queueActionRequest = z
  .object({
    action: z.enum(QUEUE_ACTIONS).describe('retry: try now; hold: stop trying until released; release: try again now; delete: stop delivering, no bounce'),
    ids: z.array(z.string().regex(/^[1-9][0-9]{0,17}$/, 'a queue entry id (digits)')).min(1).max(500).describe('queue entries (spooled recipients), at most 500'),
  })
  .strict();

export const queueActionResult = z.object({
  done: z.number().int().describe('entries the action was applied to'),
  results: z.array(
    z.object({
      id: z.string(),
      outcome: z.enum(['done', 'not_found', 'conflict']).describe('conflict: the entry is not in a state the action applies to (see message)'),
      message: z.string().nullable(),
    }),
  ),
});

export const queuePage = pageOf(queueEntryView);

const routeHost = z.string().trim().min(1).max(253);

export const createTransportRouteRequest = z.object({
  domain: z.string().trim().min(1).max(253).describe('destination domain name this route is for'),
  host: routeHost.describe('host name or IP address mail for the domain goes to, instead of its MX hosts'),
  port: z.number().int().min(1).max(65535).default(25),
  requireTls: z.boolean().default(false).describe('never send to this host without STARTTLS'),
});

export const transportRouteView = z.object({
  id: z.uuid(),
  domain: z.string(),
  host: z.string(),
  port: z.number().int(),
  requireTls: z.boolean(),
  createdAt: isoDate,
});

export const transportRouteList = z.object({ items: z.array(transportRouteView) });

export type QueueListQuery = z.infer<typeof queueListQuery>;
export type CreateTransportRouteRequest = z.infer<typeof createTransportRouteRequest>;
export type QueueActionRequest = z.infer<typeof queueActionRequest>;
