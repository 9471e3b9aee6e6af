/** Domain names as Dizi stores them: ASCII (punycode for IDN), lower case, no trailing dot. */
import { domainToASCII, domainToUnicode } from 'node:url';

export class InvalidDomainNameError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`"${input}" is not a valid domain name: ${reason}`);
  }
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export interface NormalisedDomain {
  /** ASCII form, the one stored and compared. */
  name: string;
  /** Unicode form for display. */
  unicode: string;
}

export function normaliseDomainName(input: string): NormalisedDomain {
  const trimmed = input.trim().replace(/\.$/, '');
  if (!trimmed) throw new InvalidDomainNameError(input, 'it is empty');
  if (/[\s@/\\:]/.test(trimmed)) throw new InvalidDomainNameError(input, 'it contains a space, @, slash or colon');
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (!ascii) throw new InvalidDomainNameError(input, 'it cannot be converted to an international domain name (IDNA)');
  if (ascii.length > 253) throw new InvalidDomainNameError(input, 'it is longer than 253 characters');
  const labels = ascii.split('.');
  if (labels.length < 2) throw new InvalidDomainNameError(input, 'it needs at least two labels, like example.com');
  for (const label of labels) {
    if (!LABEL.test(label)) {
      throw new InvalidDomainNameError(input, `label "${label}" must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen`);
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) throw new InvalidDomainNameError(input, 'the last label cannot be numeric');
  return { name: ascii, unicode: domainToUnicode(ascii) };
}
