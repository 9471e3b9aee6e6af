/**
 * AUTH: the password, through the Authenticator (shared throttle, account status, SMTP switch). The
 * authorisation identity must be the authenticated mailbox itself: acting for someone else through
 * authzid would let a user send as any local address.
 */
import { addressKey } from '@dizi/domain/lookup-key';
import type { AuthInput, Check } from '../pipeline';
import { ACCEPT, defer, reject, Refusal } from '../verdict';

export const credentialsCheck: Check<AuthInput> = {
  name: 'credentials',
  async run(input) {
    const { session, settings, deps } = input;
    const outcome = await deps.authenticator.authenticate(input.username, input.password, session.clientIp);
    if (!outcome.ok && outcome.reason === 'throttled') {
      return defer(454, '4.7.0', `Too many failed logins, try again in ${Math.ceil(outcome.retryAfterMs / 1000)} seconds`);
    }
    let refusal: Refusal | null = null;
    if (!outcome.ok) refusal = reject(535, '5.7.8', 'Authentication credentials invalid');
    else if (input.authzid && addressKey(await deps.authenticator.resolveLogin(input.authzid)) !== outcome.user.address) {
      refusal = reject(535, '5.7.8', 'Authorisation identity must be your own address');
    }
    if (refusal) {
      session.authFailures += 1;
      const delayMs = deps.authFailureDelayMs * session.authFailures;
      if (session.authFailures >= settings.maxAuthFailures) {
        return defer(421, '4.7.0', 'Too many failed authentication attempts, closing connection', delayMs);
      }
      return { ...refusal, delayMs };
    }
    if (!outcome.ok) throw new Error('unreachable');
    input.user = outcome.user;
    return ACCEPT;
  },
};
