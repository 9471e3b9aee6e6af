/** AUTH: a session that failed too often is cut off; each failure already cost it a growing pause. */
import type { AuthInput, Check } from '../pipeline';
import { CONTINUE, defer } from '../verdict';

export const authFailuresCheck: Check<AuthInput> = {
  name: 'auth-failures',
  run({ session, settings }) {
    if (session.authFailures >= settings.maxAuthFailures) return defer(421, '4.7.0', 'Too many failed authentication attempts, closing connection');
    return CONTINUE;
  },
};
