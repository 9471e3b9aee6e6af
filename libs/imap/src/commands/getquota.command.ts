import { AUTHENTICATED, defineCommand } from '../command';
import { no } from '../imap-error';
import type { Session } from '../session';

/** One quota root, "", for the whole mailbox (RFC 9208); STORAGE in KiB. */
export async function quotaLine(session: Session): Promise<string> {
  const q = await session.store.quota(session.mailboxId!);
  return `QUOTA "" (STORAGE ${Math.ceil(q.usedBytes / 1024)} ${Math.floor(q.quotaBytes / 1024)})`;
}

export const getquotaCommand = defineCommand({
  name: 'GETQUOTA',
  states: AUTHENTICATED,
  args: ['astring'],
  async handle({ session }, [root]) {
    if (root !== '') throw no('No such quota root', 'NONEXISTENT');
    session.untagged(await quotaLine(session));
  },
});
