/** A role's listening end of "end these mailboxes' sessions" (libs/auth/src/session-ends.ts): one subscription per role. */
import { listenForSessionEnds } from '@dizi/auth/session-ends';
import type { MtaContext } from '../context';

export function closeSessionsOnAnnouncement(
  ctx: MtaContext,
  logger: MtaContext['logger'],
  endSessionsOf: (mailboxId: string) => number,
): Promise<() => Promise<void>> {
  return listenForSessionEnds(
    ctx.redis,
    ctx.config.REDIS_PREFIX,
    (mailboxIds) => {
      for (const mailboxId of mailboxIds) {
        const ended = endSessionsOf(mailboxId);
        if (ended) logger.info({ mailboxId, sessions: ended }, 'sessions ended: the mailbox was suspended, deleted or its password changed');
      }
    },
    (err) => logger.warn({ err: String(err) }, 'session-end announcements unavailable'),
  );
}
