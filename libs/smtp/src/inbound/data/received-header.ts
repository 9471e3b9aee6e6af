/** Our trace header (RFC 5321 §4.4): from helo (rdns [ip]) by host with ESMTP[S][A] id <spool id>; for <rcpt>; date. */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** RFC 5322 date-time in UTC: `Tue, 02 Dec 2025 09:05:07 +0000`. */
export function rfc5322Date(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

export interface ReceivedFields {
  helo: string;
  /** Reverse DNS name of the client, when it has one. */
  clientHostname: string | null;
  clientIp: string;
  host: string;
  /** `ESMTP`, `ESMTPS`, `ESMTPSA`, `SMTP` (RFC 3848). */
  protocol: string;
  id: string;
  /** Named only for a single recipient, so one copy does not list the others. */
  recipient: string | null;
  date: Date;
}

// Peer-chosen text must not break the header: keep printable ASCII without parentheses or angle brackets.
const clean = (s: string) => s.replace(/[^\x21-\x7e]|[()<>;\\]/g, '');

export function receivedHeader(f: ReceivedFields): string {
  const ip = f.clientIp.includes(':') && !f.clientIp.startsWith('::ffff:') ? `IPv6:${f.clientIp}` : f.clientIp.replace(/^::ffff:/, '');
  const rdns = f.clientHostname && !f.clientHostname.startsWith('[') ? `${clean(f.clientHostname)} ` : '';
  const lines = [
    `Received: from ${clean(f.helo) || 'unknown'} (${rdns}[${ip}])`,
    `\tby ${f.host} with ${f.protocol} id ${f.id}`,
  ];
  if (f.recipient) lines.push(`\tfor <${clean(f.recipient)}>;`);
  else lines[1] += ';';
  lines.push(`\t${rfc5322Date(f.date)}`);
  return `${lines.join('\r\n')}\r\n`;
}
