/** Calendar days (yyyy-mm-dd, from date inputs) as moments in the reader's time zone, and back. */
import { browserTimeZone } from './time-zone';

/** Milliseconds the zone is ahead of UTC at `at`. */
function offset(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(at.getTime() / 1000) * 1000;
}

/** Midnight at the start of `day` in the reader's zone, as an ISO UTC string. */
export function dayStart(day: string): string {
  const zone = browserTimeZone() ?? 'UTC';
  const naive = Date.parse(`${day}T00:00:00Z`);
  // Twice: the offset at the guess may differ from the offset at the answer around a DST change.
  let at = naive - offset(new Date(naive), zone);
  at = naive - offset(new Date(at), zone);
  return new Date(at).toISOString();
}

export function nextDayStart(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return dayStart(d.toISOString().slice(0, 10));
}

/** The calendar day of a moment in the reader's zone. */
export function localDay(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: browserTimeZone() ?? 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
