/** ManageSieve response formatting (RFC 5804 §1.2, §4): quoted strings where they can be, literals otherwise. */

export type ResponseCode = string;

/** A string as the server sends it: quoted when short and plain, else a literal {n}. */
export function sieveString(value: string | Buffer): string {
  const text = typeof value === 'string' ? value : value.toString('utf8');
  if (text.length <= 1024 && !/[\r\n"\\\0]/.test(text)) return `"${text}"`;
  return `{${Buffer.byteLength(text, 'utf8')}}\r\n${text}`;
}

export function statusLine(status: 'OK' | 'NO' | 'BYE', text?: string, code?: ResponseCode): string {
  return `${status}${code ? ` (${code})` : ''}${text !== undefined ? ` ${sieveString(text)}` : ''}\r\n`;
}
