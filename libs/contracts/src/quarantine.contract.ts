/**
 * The quarantine (issue 18): messages the content filter held instead of delivering — a virus under antivirusAction
 * `quarantine`, spam from antispamQuarantineScore up — one entry per recipient. Its mailbox's user and the admins of
 * its domain list, preview (header and plain text only), release (delivered to INBOX) or delete them.
 */
import { z } from 'zod';
import { isoDate, pageOf, pageQuery } from './common.contract';

export const quarantineListQuery = pageQuery.extend({
  reason: z.enum(['spam', 'virus']).optional(),
  q: z.string().trim().min(1).max(320).optional().describe('text in the sender, recipient or subject (case-insensitive)'),
});

export const quarantineEntryView = z.object({
  id: z.string().describe('the entry (one recipient of one message)'),
  recipient: z.string(),
  sender: z.string().describe('envelope sender; empty for the null sender'),
  subject: z.string(),
  reason: z.enum(['spam', 'virus']),
  detail: z.string().describe('the virus signature, or the spam score'),
  spamScore: z.number().nullable(),
  size: z.number().int(),
  receivedAt: isoDate,
  expiresAt: isoDate.describe('deleted then unless released (setting quarantineRetentionDays)'),
});

export const quarantinePage = pageOf(quarantineEntryView);

export const quarantinePreview = quarantineEntryView.extend({
  header: z.string().describe('the header block as received, at most 32 KB, as text'),
  text: z.string().describe('the start of the first text/plain part (at most 16 KB), never HTML or attachments'),
  attachments: z.array(z.string()).describe('attachment file names'),
});

export type QuarantineListQuery = z.infer<typeof quarantineListQuery>;
