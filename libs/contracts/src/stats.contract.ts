/** The operators' dashboard: figures computed in the database from the mail log, the spool and mailbox usage. */
import { z } from 'zod';
import { isoDate } from './common.contract';

export const dashboardQuery = z.object({
  hours: z.coerce.number().int().min(1).max(24 * 14).default(48).describe('hourly series: this many hours back from now'),
  days: z.coerce.number().int().min(1).max(366).default(30).describe('daily series, refusals and top senders: this many days back'),
  top: z.coerce.number().int().min(1).max(100).default(10).describe('rows in the "top" lists'),
});

const mailBucket = z.object({
  at: isoDate.describe('start of the hour or day (UTC)'),
  inbound: z.number().int().describe('messages accepted over SMTP (sessions with result accepted)'),
  outbound: z.number().int().describe('messages delivered to remote hosts'),
  refused: z.number().int().describe('SMTP transactions refused'),
});

export const dashboardView = z.object({
  generatedAt: isoDate,
  mailPerHour: z.array(mailBucket),
  mailPerDay: z.array(mailBucket),
  refusalsByReason: z.array(z.object({ reason: z.string().describe('reply code and text, cut to 120 characters'), count: z.number().int() })),
  queueNow: z.object({ queued: z.number().int(), deferred: z.number().int() }),
  queuePerHour: z.array(z.object({ at: isoDate, waiting: z.number().int().describe('recipients received and not yet final at the end of the hour') })),
  storageByTenant: z.array(
    z.object({ tenantId: z.string(), name: z.string(), usedBytes: z.number().int(), maxStorageBytes: z.number().int().nullable(), mailboxes: z.number().int() }),
  ),
  topSenders: z.array(z.object({ sender: z.string().describe("envelope sender in lower case; '' is the null sender"), messages: z.number().int() })),
});

export type DashboardQuery = z.infer<typeof dashboardQuery>;
export type DashboardView = z.infer<typeof dashboardView>;
