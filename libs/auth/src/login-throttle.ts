/**
 * Brute-force defence shared by every password check (API, SMTP AUTH, IMAP, POP3): counters in
 * Redis so all nodes agree. Blocks are temporary by design, so an attacker can slow a real user
 * down but never lock them out for good.
 */
import Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

const ACCOUNT_IP_WINDOW_S = 15 * 60;
const IP_WINDOW_S = 60 * 60;
/** Failures on one account from all addresses before it pauses briefly (spraying from many IPs). */
const ACCOUNT_MAX_FAILURES = 30;
/** ...and for how long (the window starts at the first failure). */
const ACCOUNT_WINDOW_S = 10 * 60;
/** An address the account signed in from recently stays usable while the account is paused. */
const KNOWN_ADDRESS_S = 30 * 86_400;

export interface LoginThrottleLimits {
  /** Failed sign-ins per account+IP before that pair pauses. */
  maxFailuresPerAccountIp: number;
  /** Failed sign-ins per IP (any account) per hour before the IP pauses. */
  maxFailuresPerIp: number;
}

export class LoginThrottle {
  private readonly byAccountIp: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;
  private readonly byAccount: RateLimiterRedis;
  private readonly limits: () => LoginThrottleLimits;

  /** `limits` may be a function, read at every check: the mail nodes pass their live settings. */
  constructor(
    private readonly redis: Redis,
    limits: LoginThrottleLimits | (() => LoginThrottleLimits),
  ) {
    this.limits = typeof limits === 'function' ? limits : () => limits;
    // rate-limiter-flexible writes raw keys; ioredis adds the installation's keyPrefix to them.
    const common = { storeClient: redis };
    const now = this.limits();
    this.byAccountIp = new RateLimiterRedis({ ...common, keyPrefix: 'login:acct-ip', points: now.maxFailuresPerAccountIp, duration: ACCOUNT_IP_WINDOW_S });
    this.byIp = new RateLimiterRedis({ ...common, keyPrefix: 'login:ip', points: now.maxFailuresPerIp, duration: IP_WINDOW_S });
    this.byAccount = new RateLimiterRedis({ ...common, keyPrefix: 'login:acct', points: ACCOUNT_MAX_FAILURES, duration: ACCOUNT_WINDOW_S });
  }

  /** Milliseconds this account or IP must wait before trying again; 0 when it may try now. */
  async waitBeforeAttempt(account: string, ip: string): Promise<number> {
    this.applyLimits();
    const [pair, byIp, byAccount] = await Promise.all([
      this.byAccountIp.get(`${account}|${ip}`),
      this.byIp.get(ip),
      this.byAccount.get(account),
    ]);
    const waits = [blockedFor(pair, this.byAccountIp.points), blockedFor(byIp, this.byIp.points)];
    const accountWait = blockedFor(byAccount, this.byAccount.points);
    // Failures sprayed from many addresses pause the account, but not for the addresses its owner
    // signed in from: otherwise anyone could keep a real user out for as long as they keep guessing.
    if (accountWait > 0 && !(await this.isKnownAddress(account, ip))) waits.push(accountWait);
    return Math.max(...waits);
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
    await Promise.all([
      this.byAccountIp.delete(`${account}|${ip}`).catch(() => undefined),
      this.redis.set(knownKey(account, ip), '1', 'EX', KNOWN_ADDRESS_S).catch(() => undefined),
    ]);
  }

  /** A changed limit applies to the counters as they stand (a block is consumed points reaching the limit). */
  private applyLimits(): void {
    const { maxFailuresPerAccountIp, maxFailuresPerIp } = this.limits();
    if (this.byAccountIp.points !== maxFailuresPerAccountIp) this.byAccountIp.points = maxFailuresPerAccountIp;
    if (this.byIp.points !== maxFailuresPerIp) this.byIp.points = maxFailuresPerIp;
  }

  private async isKnownAddress(account: string, ip: string): Promise<boolean> {
    return (await this.redis.exists(knownKey(account, ip)).catch(() => 0)) === 1;
  }
}

function knownKey(account: string, ip: string): string {
  return `login:known:${account}|${ip}`;
}

function blockedFor(res: RateLimiterRes | null, points: number): number {
  if (!res) return 0;
  return res.consumedPoints >= points ? res.msBeforeNext : 0;
}
