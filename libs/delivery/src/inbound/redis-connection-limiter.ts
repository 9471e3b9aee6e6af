/**
 * ConnectionLimiter on Redis, shared by every node: connections per IP per minute with
 * rate-limiter-flexible, and connections open at once with a counter per IP. If Redis is unreachable
 * connections are admitted (and logged): counters protecting the service must not stop the mail.
 */
import type Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Admission, ConnectionLimiter, ConnectionLimits } from '@dizi/smtp/inbound/ports';

/** An open-connection counter outlives a crashed node by at most this long. */
const OPEN_TTL_S = 2 * 3600;

export class RedisConnectionLimiter implements ConnectionLimiter {
  // The limit is a setting that changes at runtime; one limiter per value, all on the same keys.
  private readonly perMinute = new Map<number, RateLimiterRedis>();

  constructor(
    private readonly redis: Redis,
    private readonly onError: (err: unknown) => void = () => undefined,
    /** Key namespace: each protocol (smtp, pop3) counts its own connections. */
    private readonly namespace = 'smtp',
  ) {}

  async admit(ip: string, limits: ConnectionLimits): Promise<Admission> {
    try {
      await this.rateLimiter(limits.perMinute).consume(ip);
    } catch (e) {
      if (e instanceof RateLimiterRes) return { admitted: false, reason: 'rate' };
      this.onError(e);
      return { admitted: true, release: async () => undefined };
    }
    const key = `${this.namespace}:conn-open:${ip}`;
    let open: number;
    try {
      const res = await this.redis.multi().incr(key).expire(key, OPEN_TTL_S).exec();
      open = Number(res?.[0]?.[1] ?? 0);
    } catch (e) {
      this.onError(e);
      return { admitted: true, release: async () => undefined };
    }
    if (open > limits.concurrent) {
      await this.redis.decr(key).catch(this.onError);
      return { admitted: false, reason: 'concurrent' };
    }
    let released = false;
    return {
      admitted: true,
      release: async () => {
        if (released) return;
        released = true;
        await this.redis.decr(key).catch(this.onError);
      },
    };
  }

  private rateLimiter(points: number): RateLimiterRedis {
    let l = this.perMinute.get(points);
    if (!l) {
      // ioredis adds the installation's key prefix to rate-limiter-flexible's raw keys.
      l = new RateLimiterRedis({ storeClient: this.redis, keyPrefix: `${this.namespace}:conn-rate`, points, duration: 60 });
      this.perMinute.set(points, l);
    }
    return l;
  }
}
