/** Connect: connections per IP per minute and at once, counted cluster-wide by the ConnectionLimiter. */
import type { Check, ConnectInput } from '../pipeline';
import { CONTINUE, defer } from '../verdict';

export const connectionRateCheck: Check<ConnectInput> = {
  name: 'connection-rate',
  async run({ session, settings, deps }) {
    const admission = await deps.limiter.admit(session.clientIp, {
      perMinute: settings.connectionsPerIpPerMinute,
      concurrent: settings.concurrentConnectionsPerIp,
    });
    if (!admission.admitted) {
      return admission.reason === 'rate'
        ? defer(421, '4.7.0', 'Too many connections from your address this minute, try again later')
        : defer(421, '4.7.0', 'Too many concurrent connections from your address, try again later');
    }
    session.release = admission.release;
    return CONTINUE;
  },
};
