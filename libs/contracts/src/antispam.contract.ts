/**
 * The operators' anti-spam report (issue 18): what the inbound checks refused, and what the content filter junked
 * and quarantined, over a period — computed in the database from the mail log and the quarantine.
 */
import { z } from 'zod';

const when = z.string().datetime({ offset: true, message: 'use an ISO 8601 time, e.g. 2026-12-01T00:00:00Z' });

export const antispamReportQuery = z
  .object({
    from: when.optional().describe('start of the period (default: 7 days before `to`)'),
    to: when.optional().describe('end of the period, exclusive (default: now)'),
  })
  .strict();

export const antispamReportView = z.object({
  from: z.string(),
  to: z.string(),
  refused: z.object({
    dnsList: z.number().int(),
    helo: z.number().int(),
    reverseDns: z.number().int(),
    greylist: z.number().int(),
    dmarc: z.number().int(),
    spamScore: z.number().int(),
    virus: z.number().int(),
  }).describe('SMTP transactions answered with a refusal (or a greylisting deferral) by each check'),
  dnsListZones: z.array(z.object({ zone: z.string(), refused: z.number().int() })).describe('refusals per DNS list zone, most first'),
  accepted: z.number().int(),
  junked: z.number().int().describe('accepted and filed in Junk by score'),
  quarantined: z.object({ spam: z.number().int(), virus: z.number().int() }),
});

export type AntispamReportQuery = z.infer<typeof antispamReportQuery>;
