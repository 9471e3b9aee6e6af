/** The shared login throttle (libs/auth/src/login-throttle.ts) as a Nest provider that answers 429. */
import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { LoginThrottle } from '@dizi/auth/login-throttle';
import type { ApiConfig } from '@dizi/config/api.config';
import { tooManyRequests } from '../../common/api-error';
import { API_CONFIG, REDIS } from '../../common/tokens';

@Injectable()
export class LoginThrottleService extends LoginThrottle {
  constructor(@Inject(REDIS) redis: Redis, @Inject(API_CONFIG) config: ApiConfig) {
    super(redis, { maxFailuresPerAccountIp: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_IP, maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP });
  }

  /** Throws 429 when this account or IP is paused; call before checking the password. */
  async assertAllowed(account: string, ip: string): Promise<void> {
    const wait = await this.waitBeforeAttempt(account, ip);
    if (wait > 0) throw tooManyRequests(`too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} s`);
  }
}
