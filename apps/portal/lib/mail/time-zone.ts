'use client';
/**
 * The reader's time zone for dates in the webmail (the server renders in UTC; mail dates are only drawn in the
 * browser): the one chosen in the settings, else the browser's.
 */
let preferred: string | null = null;

export function setPreferredTimeZone(timeZone: string | null): void {
  preferred = timeZone;
}

export function browserTimeZone(): string | undefined {
  if (preferred) return preferred;
  return deviceTimeZone();
}

/** The browser's own zone, whatever the settings say. */
export function deviceTimeZone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
