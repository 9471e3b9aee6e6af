'use client';
/** The reader's own time zone for dates in the webmail (the server renders in UTC; mail dates are only drawn in the browser). */
export function browserTimeZone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
