/**
 * The POP3 one-session-per-mailbox lock shared by every node: a Redis key with a TTL that the holding session
 * refreshes while it lives, so a node that dies frees its mailboxes within the TTL.
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { MailboxLease, MailboxLock } from '@dizi/pop3/mailbox-lock';

export interface RedisMailboxLockOptions {
  /** How long a lease outlives its last refresh (default 60 s). */
  ttlMs?: number;
  /** How often the holder refreshes it (default a third of the TTL). */
  refreshMs?: number;
  onError?: (err: unknown) => void;
}

// Refresh and release only while the key still holds our token: an expired lease must not touch its successor's.
const REFRESH = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class RedisMailboxLock implements MailboxLock {
  private readonly ttlMs: number;
  private readonly refreshMs: number;

  constructor(private readonly redis: Redis, private readonly options: RedisMailboxLockOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.refreshMs = options.refreshMs ?? Math.floor(this.ttlMs / 3);
  }

  /** The key under the connection's keyPrefix. */
  static key(mailboxId: string): string {
    return `pop3:lock:${mailboxId}`;
  }

  async acquire(mailboxId: string, onLost?: () => void): Promise<MailboxLease | null> {
    const key = RedisMailboxLock.key(mailboxId);
    const token = randomUUID();
    const set = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
    if (set !== 'OK') return null;
    let released = false;
    const timer = setInterval(() => {
      this.redis
        .eval(REFRESH, 1, key, token, String(this.ttlMs))
        .then((kept) => {
          if (kept === 0 && !released) {
            released = true;
            clearInterval(timer);
            onLost?.();
          }
        })
        // A Redis hiccup: keep trying; the lease is only lost once the key is gone.
        .catch((err) => this.options.onError?.(err));
    }, this.refreshMs);
    timer.unref();
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        await this.redis.eval(RELEASE, 1, key, token).catch((err) => this.options.onError?.(err));
      },
    };
  }
}
