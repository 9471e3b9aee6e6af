/** A mailbox user's own webmail preferences (table mailbox_preference), read and changed by that user only. */
import { z } from 'zod';

export const MAX_IMAGE_SENDERS = 500;

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** PATCH: only the fields given change. */
export const mailboxPreferencePatch = z
  .object({
    density: z.enum(['comfortable', 'compact']).optional().describe('how tightly the message list is drawn'),
    timeZone: z
      .string()
      .trim()
      .max(64)
      .refine(isTimeZone, 'timeZone: not a time zone name; use an IANA name like Asia/Shanghai or Europe/Berlin, or null to follow the browser')
      .nullable()
      .optional()
      .describe('IANA time zone for dates; null: the browser\'s'),
    imageSenders: z
      .array(z.string().trim().toLowerCase().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, 'imageSenders: each entry must be a mail address like name@example.com'))
      .max(MAX_IMAGE_SENDERS, `imageSenders: at most ${MAX_IMAGE_SENDERS} senders`)
      .optional()
      .describe('senders whose remote images are shown without asking (the whole list)'),
  })
  .strict();

export const mailboxPreferenceView = z.object({
  density: z.enum(['comfortable', 'compact']),
  timeZone: z.string().nullable(),
  imageSenders: z.array(z.string()),
});
