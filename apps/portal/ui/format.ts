/** Sizes for people: bytes in the user's locale, binary units as mail quotas are counted. */
import type { useFormatter } from 'next-intl';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

export function formatBytes(bytes: number, format: ReturnType<typeof useFormatter>): string {
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < UNITS.length - 1) {
    n /= 1024;
    u++;
  }
  return `${format.number(n, { maximumFractionDigits: u === 0 ? 0 : 1 })} ${UNITS[u]}`;
}

export const GB = 1024 ** 3;
