/** Header field values in the parsed forms of RFC 8621 §4.1.2 (Raw, Text, Addresses, GroupedAddresses, MessageIds, Date, URLs). */
import { decodeHeaderText } from '@dizi/mime/mime-header';
import { parseMailAddresses } from '@dizi/mime/address';

export type HeaderForm = 'Raw' | 'Text' | 'Addresses' | 'GroupedAddresses' | 'MessageIds' | 'Date' | 'URLs';
export const HEADER_FORMS: readonly HeaderForm[] = ['Raw', 'Text', 'Addresses', 'GroupedAddresses', 'MessageIds', 'Date', 'URLs'];

export interface EmailAddress {
  name: string | null;
  email: string;
}

/** `raw` is the value as stored: a byte string (one char per octet), from after the colon. */
export function headerAs(raw: string, form: HeaderForm): unknown {
  switch (form) {
    case 'Raw': return Buffer.from(raw, 'latin1').toString('utf8');
    case 'Text': return decodeHeaderText(raw);
    case 'Addresses': return addresses(raw);
    case 'GroupedAddresses': return [{ name: null, addresses: addresses(raw) }];
    case 'MessageIds': return messageIds(raw);
    case 'Date': return date(raw);
    case 'URLs': return urls(raw);
  }
}

export function addresses(raw: string): EmailAddress[] {
  return parseMailAddresses(raw).map((a) => ({ name: a.name || null, email: a.address }));
}

export function messageIds(raw: string): string[] | null {
  const ids = [...raw.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]);
  return ids.length > 0 ? ids : null;
}

export function date(raw: string): string | null {
  const t = Date.parse(raw.replace(/\s*\([^)]*\)\s*$/, '').trim());
  return Number.isNaN(t) ? null : new Date(t).toISOString().replace('.000Z', 'Z');
}

function urls(raw: string): string[] | null {
  const list = [...raw.matchAll(/<([^<>]+)>/g)].map((m) => m[1].replace(/\s+/g, ''));
  return list.length > 0 ? list : null;
}

/** `header:Name[:asForm][:all]`; null when the property is not of that shape. */
export function parseHeaderProperty(property: string): { name: string; form: HeaderForm; all: boolean } | null {
  const parts = property.split(':');
  if (parts[0] !== 'header' || parts.length < 2 || parts.length > 4 || parts[1] === '') return null;
  let all = false;
  if (parts[parts.length - 1] === 'all') {
    all = true;
    parts.pop();
  }
  if (parts.length > 3) return null;
  let form: HeaderForm = 'Raw';
  if (parts.length === 3) {
    if (!parts[2].startsWith('as')) return null;
    const f = parts[2].slice(2) as HeaderForm;
    if (!HEADER_FORMS.includes(f)) return null;
    form = f;
  }
  return { name: parts[1], form, all };
}
