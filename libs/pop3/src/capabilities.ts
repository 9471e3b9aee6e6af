// The CAPA list (RFC 2449) as this session may use it: no USER or SASL before TLS, STLS only where it can run.
import type { Session } from './session';

export function capabilities(session: Session): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (session.state === 'authorization') {
    if (session.mayAuthenticate) caps.push('USER', 'SASL PLAIN');
    if (session.tlsOffered) caps.push('STLS');
  }
  caps.push(`IMPLEMENTATION ${session.settings.serverName}`);
  return caps;
}
