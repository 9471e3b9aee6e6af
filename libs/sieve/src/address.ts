/** Mail addresses in header fields (RFC 5322 address-list, leniently) and their parts (RFC 5228 §2.7.4, RFC 5233). */

/** Splits a header value into the addr-specs it holds: display names, comments and group syntax are dropped. */
export function parseAddressList(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let angle: string | null = null;
  let inQuote = false;
  let comment = 0;
  const flush = () => {
    const spec = (angle ?? current).trim();
    if (spec) out.push(spec);
    current = '';
    angle = null;
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
      if (angle !== null) angle += c;
      continue;
    }
    if (comment) {
      if (c === '\\') i++;
      else if (c === '(') comment++;
      else if (c === ')') comment--;
      continue;
    }
    if (c === '(') {
      comment = 1;
      continue;
    }
    if (c === '"') {
      inQuote = true;
      // A quoted display name is not part of the address; a quoted local part inside <> is.
      if (angle !== null) angle += c;
      continue;
    }
    if (c === '<') {
      angle = '';
      continue;
    }
    if (c === '>') {
      current = angle ?? current;
      angle = null;
      // The bracketed address is the whole of this entry.
      const spec = current.trim();
      if (spec) out.push(spec);
      current = '';
      while (i + 1 < value.length && value[i + 1] !== ',' && value[i + 1] !== ';') i++;
      continue;
    }
    if (angle !== null) {
      angle += c;
      continue;
    }
    if (c === ':') {
      // "group-name:" starts a group: what came before is its display name.
      current = '';
      continue;
    }
    if (c === ',' || c === ';') {
      flush();
      continue;
    }
    current += c;
  }
  flush();
  return out.map((a) => a.trim());
}

export interface AddressParts {
  all: string;
  localpart: string;
  domain: string;
}

export function splitAddress(address: string): AddressParts {
  const at = address.lastIndexOf('@');
  if (at === -1) return { all: address, localpart: address, domain: '' };
  return { all: address, localpart: address.slice(0, at), domain: address.slice(at + 1) };
}

/** RFC 5233: user and detail around the first separator; no separator means no detail (the test does not match). */
export function splitSubaddress(localpart: string, separator: string): { user: string; detail: string | null } {
  const at = localpart.indexOf(separator);
  if (at === -1) return { user: localpart, detail: null };
  return { user: localpart.slice(0, at), detail: localpart.slice(at + separator.length) };
}

export function isValidAddress(address: string): boolean {
  return /^[^\s@<>()",;]+@[^\s@<>()",;[\]]+$/u.test(address) || /^[^\s@<>()",;]+@\[[0-9A-Fa-f:.]+\]$/.test(address);
}
