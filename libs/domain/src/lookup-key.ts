/** Keys for finding a domain or address someone typed (in a path, a query or a login): the stored form, without validating it. */
import { domainToASCII } from 'node:url';

/** Lookup key for a domain name given in a path or query: lower case, IDN to ASCII. */
export function domainKey(name: string): string {
  // `example.test.` is the same domain (fully qualified form); stored names have no trailing dot.
  const plain = name.trim().toLowerCase().replace(/\.$/, '');
  // URL parsing would read `x@a.test` or `a.test/x` as a.test; such input names no domain.
  if (/[\s@/\\:?#%]/.test(plain)) return plain;
  return domainToASCII(plain) || plain;
}

export function addressKey(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address.trim().toLowerCase();
  return `${address.slice(0, at).trim().toLowerCase()}@${domainKey(address.slice(at + 1))}`;
}
