/**
 * "End every session of these mailboxes": the API announces it on Redis when a mailbox is suspended,
 * deleted, its password set or reset or its role changed; every mail node listens and closes the
 * mailbox's IMAP, POP3 and SMTP sessions at once. Best effort by design (pub/sub): a node that misses
 * it still refuses the next sign-in, and the SMTP sender check reads the mailbox's status.
 */
import type Redis from 'ioredis';

const CHANNEL = 'sessions:end';
/** Mailbox ids per message: a tenant's suspension is announced in slices of this many. */
const IDS_PER_MESSAGE = 1000;

export const sessionsEndedChannel = (redisPrefix: string): string => `${redisPrefix}${CHANNEL}`;

export async function announceSessionEnds(redis: Redis, redisPrefix: string, mailboxIds: string[]): Promise<void> {
  for (let i = 0; i < mailboxIds.length; i += IDS_PER_MESSAGE) {
    await redis.publish(sessionsEndedChannel(redisPrefix), JSON.stringify(mailboxIds.slice(i, i + IDS_PER_MESSAGE)));
  }
}

/** One subscription per process; `onEnd` gets the mailbox ids whose sessions must close. */
export async function listenForSessionEnds(
  redis: Redis,
  redisPrefix: string,
  onEnd: (mailboxIds: string[]) => void,
  onError: (err: unknown) => void,
): Promise<() => Promise<void>> {
  // A subscribed connection can do nothing else: a duplicate of the caller's.
  const subscriber = redis.duplicate();
  subscriber.on('error', onError);
  const channel = sessionsEndedChannel(redisPrefix);
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    try {
      const ids: unknown = JSON.parse(message);
      if (Array.isArray(ids)) onEnd(ids.filter((id): id is string => typeof id === 'string'));
    } catch (err) {
      onError(err);
    }
  });
  await subscriber.subscribe(channel);
  return async () => {
    await subscriber.quit().catch(() => subscriber.disconnect());
  };
}
