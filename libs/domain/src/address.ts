/** Mail addresses: a local part and a normalised domain. Local parts are compared case-insensitively. */
import { InvalidDomainNameError, normaliseDomainName } from './domain-name';

export class InvalidAddressError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`"${input}" is not a valid mail address: ${reason}`);
  }
}

// Dot-atom local part (RFC 5322) in its common form: no quoted strings, no leading/trailing/double dots.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

export function normaliseLocalPart(input: string): string {
  const local = input.trim().toLowerCase();
  if (!local) throw new InvalidAddressError(input, 'the name before @ is empty');
  if (local.length > 64) throw new InvalidAddressError(input, 'the name before @ is longer than 64 characters');
  if (!LOCAL_PART.test(local)) throw new InvalidAddressError(input, 'the name before @ may only hold letters, digits and . _ - + and must not start or end with a dot');
  return local;
}

export interface Address {
  localPart: string;
  domain: string;
  address: string;
}

export function parseAddress(input: string): Address {
  const at = input.lastIndexOf('@');
  if (at < 0) throw new InvalidAddressError(input, 'it has no @');
  const localPart = normaliseLocalPart(input.slice(0, at));
  let domain: string;
  try {
    domain = normaliseDomainName(input.slice(at + 1)).name;
  } catch (e) {
    if (e instanceof InvalidDomainNameError) throw new InvalidAddressError(input, e.reason);
    throw e;
  }
  return { localPart, domain, address: `${localPart}@${domain}` };
}

/**
 * Group members and sender lists may hold wildcards: `*@a.test` (anyone at a domain),
 * `@a.test` (same), or a plain address.
 */
export function normaliseAddressPattern(input: string): string {
  const trimmed = input.trim().toLowerCase();
  if (trimmed.startsWith('*@') || trimmed.startsWith('@')) {
    const domain = trimmed.slice(trimmed.indexOf('@') + 1);
    try {
      return `*@${normaliseDomainName(domain).name}`;
    } catch (e) {
      if (e instanceof InvalidDomainNameError) throw new InvalidAddressError(input, e.reason);
      throw e;
    }
  }
  return parseAddress(trimmed).address;
}

export function addressMatchesPattern(address: string, pattern: string): boolean {
  const a = address.toLowerCase();
  if (pattern.startsWith('*@')) return a.endsWith(pattern.slice(1));
  return a === pattern;
}

/** The domain part of an address (after its last `@`), lower case; the whole text when there is no `@`. */
export function domainOfAddress(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
