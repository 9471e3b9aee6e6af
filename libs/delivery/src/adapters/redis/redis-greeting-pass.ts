/**
 * GreetingPassList on Redis (one key per client address with the pass's TTL), shared by every node, with the passes
 * this node has seen kept in memory too: a sending host opens a connection per message, and only its first one on
 * this node asks Redis.
 */
import type Redis from 'ioredis';
import type { GreetingPassList } from '@dizi/smtp/inbound/ports';

/** A pass found in Redis is trusted locally for at most this long (a shortened TTL setting takes effect by then). */
const LOCAL_MS = 10 * 60_000;
const LOCAL_MAX = 100_000;

export class RedisGreetingPassList implements GreetingPassList {
  private readonly local = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {}

  async passed(ip: string): Promise<boolean> {
    const until = this.local.get(ip);
    if (until !== undefined && until > this.now()) return true;
    const ttlMs = await this.redis.pttl(this.key(ip));
    if (ttlMs <= 0) return false;
    this.keep(ip, ttlMs);
    return true;
  }

  async remember(ip: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.key(ip), '1', 'EX', ttlSeconds);
    this.keep(ip, ttlSeconds * 1000);
  }

  private keep(ip: string, ttlMs: number): void {
    if (this.local.size >= LOCAL_MAX) this.local.delete(this.local.keys().next().value as string);
    this.local.delete(ip);
    this.local.set(ip, this.now() + Math.min(ttlMs, LOCAL_MS));
  }

  private key(ip: string): string {
    return `smtp:greet-pass:${ip}`;
  }
}
