/** RFC 5260 date parts of a Date header or the current time, in a chosen zone. */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const NAMED_ZONES: Record<string, number> = { ut: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420 };

export interface ZonedInstant {
  /** Milliseconds since the epoch (UTC). */
  time: number;
  /** The zone it was written in, minutes east of UTC. */
  offset: number;
}

/** Parses an RFC 5322 date-time ("Tue, 1 Jul 2003 10:52:37 +0200"); null when it is not one. */
export function parseRfc5322Date(value: string): ZonedInstant | null {
  const m = /^\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]{1,3})?/.exec(value.replace(/\([^)]*\)/g, ' '));
  if (!m) return null;
  const month = MONTHS.indexOf(m[2].toLowerCase());
  if (month === -1) return null;
  let year = Number(m[3]);
  if (m[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3].length === 3) year += 1900;
  let offset = 0;
  if (m[7]) {
    if (/^[+-]/.test(m[7])) offset = zoneMinutes(m[7])!;
    else offset = NAMED_ZONES[m[7].toLowerCase()] ?? 0;
  }
  const [day, hour, minute, second] = [Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const local = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  return { time: local - offset * 60_000, offset };
}

/** "+0800" → 480; null when malformed. */
export function zoneMinutes(zone: string): number | null {
  const m = /^([+-])(\d{2})(\d{2})$/.exec(zone);
  if (!m || Number(m[3]) > 59) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const formatZone = (offset: number, colon = false) => `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}${colon ? ':' : ''}${pad(Math.abs(offset) % 60)}`;

/** The named date part of the instant seen in the zone `offset` (minutes east of UTC). */
export function datePart(time: number, offset: number, part: string): string {
  const d = new Date(time + offset * 60_000);
  const year = pad(d.getUTCFullYear(), 4);
  const month = pad(d.getUTCMonth() + 1);
  const day = pad(d.getUTCDate());
  const hour = pad(d.getUTCHours());
  const minute = pad(d.getUTCMinutes());
  const second = pad(d.getUTCSeconds());
  switch (part) {
    case 'year':
      return year;
    case 'month':
      return month;
    case 'day':
      return day;
    case 'date':
      return `${year}-${month}-${day}`;
    case 'julian':
      // Modified Julian Day: days since 1858-11-17, which is day -40587 of the Unix epoch.
      return String(Math.floor((time + offset * 60_000) / 86_400_000) + 40587);
    case 'hour':
      return hour;
    case 'minute':
      return minute;
    case 'second':
      return second;
    case 'time':
      return `${hour}:${minute}:${second}`;
    case 'iso8601':
      return `${year}-${month}-${day}T${hour}:${minute}:${second}${formatZone(offset, true)}`;
    case 'std11':
      return `${DAYS[d.getUTCDay()]}, ${day} ${MONTHS[d.getUTCMonth()][0].toUpperCase()}${MONTHS[d.getUTCMonth()].slice(1)} ${year} ${hour}:${minute}:${second} ${formatZone(offset)}`;
    case 'zone':
      return formatZone(offset);
    case 'weekday':
      return String(d.getUTCDay());
    default:
      return '';
  }
}
