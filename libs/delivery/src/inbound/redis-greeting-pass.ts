/** GreetingPassList on Redis (one key per client address with the pass's TTL), shared by every node. */
import type Redis from 'ioredis';
import type { GreetingPassList } from '@dizi/smtp/inbound/ports';

export class RedisGreetingPassList implements GreetingPassList {
  constructor(private readonly redis: Redis) {}

  async passed(ip: string): Promise<boolean> {
    return (await this.redis.exists(this.key(ip))) === 1;
  }

  async remember(ip: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.key(ip), '1', 'EX', ttlSeconds);
  }

  private key(ip: string): string {
    return `smtp:greet-pass:${ip}`;
  }
}
