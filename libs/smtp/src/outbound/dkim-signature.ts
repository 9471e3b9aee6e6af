/** DKIM-Signature header for an outgoing message, made with the sender domain's key (mailauth). */
import type { Readable } from 'node:stream';
import { dkimSign } from 'mailauth/lib/dkim/sign';

export interface DkimKey {
  domain: string;
  selector: string;
  /** PEM (PKCS#8 or PKCS#1), RSA or Ed25519. */
  privateKey: string;
}

export class DkimSigningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DkimSigningError';
  }
}

/** Reads the whole message once (the body hash needs it) and returns the header line(s), ending in CRLF. */
export async function dkimSignatureHeader(message: Readable | Buffer, key: DkimKey, signTime: Date = new Date()): Promise<string> {
  // mailauth signs only what signatureData lists; its typings also ask for the top-level fields.
  const signature = { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey };
  const result = await dkimSign(message, { ...signature, canonicalization: 'relaxed/relaxed', signTime, signatureData: [signature] });
  if (result.errors?.length) throw new DkimSigningError(`DKIM signing for ${key.domain} failed: ${result.errors.map((e) => e.message).join('; ')}`);
  const signatures = result.signatures.trim();
  if (!signatures) throw new DkimSigningError(`DKIM signing for ${key.domain} produced no signature`);
  return `${signatures}\r\n`;
}
