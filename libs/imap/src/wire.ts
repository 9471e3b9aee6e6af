// Wire spelling of strings, mailbox names and flags in responses.

/** astring as quoted string or literal; atoms are not used so that any name round-trips. */
export function quoteString(value: string): string {
  if (/[\r\n]/.test(value) || value.includes('\0') || /[^ -~]/.test(value)) {
    return `{${Buffer.byteLength(value, 'utf8')}}\r\n${value}`;
  }
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

export function flagList(flags: readonly string[]): string {
  return `(${flags.join(' ')})`;
}

/** RFC 3501 date-time: "17-Jul-1996 02:44:25 -0700", always in UTC here. */
export function formatInternalDate(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, ' ');
  return `"${day}-${months[date.getUTCMonth()]}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000"`;
}

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };

/** APPEND date-time; null when malformed. */
export function parseInternalDate(text: string): Date | null {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const month = MONTHS[m[2].toLowerCase()];
  if (month === undefined) return null;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const offset = (Number(m[8]) * 60 + Number(m[9])) * 60_000 * (m[7] === '+' ? 1 : -1);
  const date = new Date(utc - offset);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** SEARCH date (`1-Feb-1994`) as the UTC midnight it names; null when malformed. */
export function parseSearchDate(text: string): number | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!m) return null;
  const month = MONTHS[m[2].toLowerCase()];
  if (month === undefined) return null;
  return Date.UTC(Number(m[3]), month, Number(m[1]));
}
