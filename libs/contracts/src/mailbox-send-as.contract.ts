/**
 * "Send as" identities of a mailbox (table mailbox_send_as): addresses a domain admin allows the mailbox's user to
 * use as envelope sender and From: on the submission ports, besides the mailbox's own address and its aliases.
 */
import { z } from 'zod';
import { isoDate } from './common.contract';

export const MAX_SEND_AS_IDENTITIES = 100;

export const grantSendAsRequest = z
  .object({
    address: z.string().trim().min(1).max(320)
      .describe('an address of a domain hosted here that you administer, e.g. a shared info@ mailbox, a group or another user'),
  })
  .strict();

export const sendAsIdentityView = z.object({
  address: z.string(),
  grantedBy: z.string().describe('who granted it'),
  createdAt: isoDate,
});

export const sendAsListView = z.object({
  mailbox: z.string().describe('the mailbox address'),
  identities: z.array(sendAsIdentityView),
});
