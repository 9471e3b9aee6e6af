/**
 * Asks the mail nodes for the welcome mail of new mailboxes (issue 12 item 4), in the caller's transaction: the
 * request exists exactly when the mailboxes do. The scheduler role sends it (SystemNotices.sendPendingWelcomes);
 * the API holds no blob store to write the message itself.
 */
import type { EntityManager } from 'typeorm';
import { smtpSettings } from '@dizi/contracts/mail-settings.contract';

/** Whether the operators' `welcomeMailEnabled` setting (default on) is on, as stored now. */
async function welcomeMailEnabled(m: EntityManager): Promise<boolean> {
  const [row]: { value: unknown }[] = await m.query(`SELECT value FROM system_setting WHERE key = 'smtp'`);
  const parsed = smtpSettings.safeParse(row?.value ?? {});
  return parsed.success ? parsed.data.welcomeMailEnabled : smtpSettings.parse({}).welcomeMailEnabled;
}

export async function requestWelcomeMail(m: EntityManager, mailboxIds: readonly string[]): Promise<void> {
  if (mailboxIds.length === 0 || !(await welcomeMailEnabled(m))) return;
  await m.query(`INSERT INTO mailbox_welcome (mailbox_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING`, [mailboxIds]);
}
