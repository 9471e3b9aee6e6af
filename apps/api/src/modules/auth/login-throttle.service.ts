/**
 * Brute-force defence for every password check (API now; SMTP, IMAP and POP3 share it later):
 * counters in Redis so all nodes agree. Blocks are temporary by design, so an attacker can slow
 * a real user down but never lock them out for good.
 */
import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ApiConfig } from '@dizi/config/api.config';
import { tooManyRequests } from '../../common/api-error';
import { API_CONFIG, REDIS } from '../../common/tokens';

const ACCOUNT_IP_WINDOW_S = 15 * 60;
const IP_WINDOW_S = 60 * 60;
/** Failures on one account from all addresses before it pauses briefly (spraying from many IPs). */
const ACCOUNT_MAX_FAILURES = 30;
/** ...and for how long (the window starts at the first failure). */
const ACCOUNT_WINDOW_S = 10 * 60;

@Injectable()
export class LoginThrottleService {
  private readonly byAccountIp: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;
  private readonly byAccount: RateLimiterRedis;

  constructor(@Inject(REDIS) redis: Redis, @Inject(API_CONFIG) config: ApiConfig) {
    // rate-limiter-flexible writes raw keys; ioredis adds our keyPrefix to them.
    const common = { storeClient: redis };
    this.byAccountIp = new RateLimiterRedis({ ...common, keyPrefix: 'login:acct-ip', points: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_IP, duration: ACCOUNT_IP_WINDOW_S });
    this.byIp = new RateLimiterRedis({ ...common, keyPrefix: 'login:ip', points: config.LOGIN_MAX_FAILURES_PER_IP, duration: IP_WINDOW_S });
    this.byAccount = new RateLimiterRedis({ ...common, keyPrefix: 'login:acct', points: ACCOUNT_MAX_FAILURES, duration: ACCOUNT_WINDOW_S });
  }

  /** Throws 429 when this account or IP is paused; call before checking the password. */
  async assertAllowed(account: string, ip: string): Promise<void> {
    const [pair, byIp, byAccount] = await Promise.all([
      this.byAccountIp.get(`${account}|${ip}`),
      this.byIp.get(ip),
      this.byAccount.get(account),
    ]);
    const waits = [
      blockedFor(pair, this.byAccountIp.points),
      blockedFor(byIp, this.byIp.points),
      blockedFor(byAccount, this.byAccount.points),
    ];
    const wait = Math.max(...waits);
    if (wait > 0) throw tooManyRequests(`too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} s`);
  }

  async recordFailure(account: string, ip: string): Promise<void> {
    await Promise.all([
      this.byAccountIp.penalty(`${account}|${ip}`).catch(() => undefined),
      this.byIp.penalty(ip).catch(() => undefined),
      this.byAccount.penalty(account).catch(() => undefined),
    ]);
  }

  /** A success from this address forgets that pair's failures (not the IP's or the account's). */
  async recordSuccess(account: string, ip: string): Promise<void> {
    await this.byAccountIp.delete(`${account}|${ip}`).catch(() => undefined);
  }
}

function blockedFor(res: RateLimiterRes | null, points: number): number {
  if (!res) return 0;
  return res.consumedPoints >= points ? res.msBeforeNext : 0;
}
