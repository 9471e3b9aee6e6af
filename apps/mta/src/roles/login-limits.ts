/** The sign-in throttle limits of IMAP, POP3 and SMTP AUTH, from the operators' live settings. */
import type { LoginThrottleLimits } from '@dizi/auth/login-throttle';
import type { MtaContext } from '../context';

export function loginLimits(ctx: Pick<MtaContext, 'settings'>): LoginThrottleLimits {
  const s = ctx.settings.smtp;
  return { maxFailuresPerAccountIp: s.loginMaxFailuresPerAccountIp, maxFailuresPerIp: s.loginMaxFailuresPerIp };
}
