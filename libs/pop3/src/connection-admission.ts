/**
 * The per-IP connection policy a POP3 listener applies before its greeting: connections per minute and connections
 * open at once from one client address (the mail node counts them in Redis, across nodes).
 */
export type { AdmitConnection, ConnectionAdmission } from '@dizi/listener/listener';

/** The refusal sent instead of the greeting (RFC 3206 SYS/TEMP: try again later), then the connection closes. */
export function refusalLine(reason: 'rate' | 'concurrent'): string {
  return reason === 'rate'
    ? '-ERR [SYS/TEMP] Too many connections from your address this minute, try again later\r\n'
    : '-ERR [SYS/TEMP] Too many concurrent connections from your address, try again later\r\n';
}
