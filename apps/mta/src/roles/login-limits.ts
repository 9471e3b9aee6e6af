/** The sign-in throttle limits of IMAP, POP3 and SMTP AUTH, from the operators' live settings, and their verified-sign-in cache. */
import type { LoginCacheOptions } from '@dizi/auth/login-cache';
import type { LoginThrottleLimits } from '@dizi/auth/login-throttle';
import type { MtaContext } from '../context';

export function loginLimits(ctx: Pick<MtaContext, 'settings'>): LoginThrottleLimits {
  const s = ctx.settings.smtp;
  return { maxFailuresPerAccountIp: s.loginMaxFailuresPerAccountIp, maxFailuresPerIp: s.loginMaxFailuresPerIp };
}

/** The cache of verified sign-ins each role's MailboxLogin keeps (process config, not a live setting). */
export function loginCacheOptions(ctx: Pick<MtaContext, 'config'>): LoginCacheOptions {
  return { ttlMs: ctx.config.AUTH_CACHE_TTL_SECONDS * 1000, maxEntries: ctx.config.AUTH_CACHE_SIZE };
}
