/** A mailbox's own delivery settings: forwarding and the RFC 3834 auto-reply (table mailbox_delivery). */
import { z } from 'zod';
import { isoDate } from './common.contract';

export const MAX_FORWARD_ADDRESSES = 10;

const when = z.iso.datetime({ offset: true });

export const autoReplySettings = z
  .object({
    enabled: z.boolean().default(false),
    subject: z.string().trim().max(200, 'the subject is longer than 200 characters').refine((s) => !/[\r\n]/.test(s), 'the subject must be one line').default(''),
    body: z.string().max(20_000, 'the body is longer than 20000 characters').default(''),
    startsAt: when.nullable().default(null).describe('replies from this time; null: from now'),
    endsAt: when.nullable().default(null).describe('no replies after this time; null: until turned off'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.enabled && !a.body.trim()) ctx.addIssue({ code: 'custom', path: ['body'], message: 'write the reply text before turning the auto-reply on' });
    if (a.startsAt && a.endsAt && Date.parse(a.endsAt) <= Date.parse(a.startsAt)) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
    }
  });

/** The whole settings (PUT): a field left out goes back to its default. */
export const mailboxDeliverySettings = z
  .object({
    forwardTo: z
      .array(z.string().trim().min(1).max(320).describe('a mail address like name@example.com; international domains allowed'))
      .max(MAX_FORWARD_ADDRESSES, `at most ${MAX_FORWARD_ADDRESSES} forwarding addresses`)
      .default([])
      .describe('forward every message to these addresses'),
    keepCopy: z.boolean().default(true).describe('keep a copy of forwarded mail in this mailbox'),
    autoReply: autoReplySettings.prefault({}),
  })
  .strict();

export const mailboxDeliveryView = z.object({
  mailbox: z.string().describe('the mailbox address'),
  forwardTo: z.array(z.string()),
  keepCopy: z.boolean(),
  autoReply: z.object({
    enabled: z.boolean(),
    subject: z.string(),
    body: z.string(),
    startsAt: isoDate.nullable(),
    endsAt: isoDate.nullable(),
  }),
  updatedAt: isoDate.nullable(),
});
