import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import {
  InvalidRegistrationCodeError, REGISTRATION_CODE_PREFIX, RegistrationPayload, signRegistrationCode, verifyRegistrationCode,
} from './registration-code';

const keys = generateKeyPairSync('ed25519');
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function payload(over: Partial<RegistrationPayload> = {}): RegistrationPayload {
  return {
    v: 1,
    id: randomUUID(),
    domain: 'mail.example.com',
    maxDomains: 3,
    maxMailboxes: 250,
    issuedAt: '2025-11-27T00:00:00.000Z',
    expiresAt: '2099-01-01T00:00:00.000Z',
    ...over,
  };
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidRegistrationCodeError) return e.reason;
    throw e;
  }
  return 'accepted';
}

describe('registration codes', () => {
  it('round-trips the payload and reads like DIZI1-<payload>.<signature>', () => {
    const p = payload();
    const code = signRegistrationCode(p, keys.privateKey);
    expect(code).toMatch(/^DIZI1-[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
    expect(verifyRegistrationCode(code, keys.publicKey)).toEqual(p);
    const body = code.slice(REGISTRATION_CODE_PREFIX.length).split('.')[0];
    expect(JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))).toEqual(p);
  });

  it('normalises the domain (IDN to punycode, lower case, no trailing dot) and keeps codes without expiry', () => {
    const { expiresAt: _e, ...rest } = payload({ domain: 'Bücher.Example.' });
    const verified = verifyRegistrationCode(signRegistrationCode(rest as RegistrationPayload, keys.privateKey), keys.publicKey);
    expect(verified.domain).toBe('xn--bcher-kva.example');
    expect(verified.expiresAt).toBeUndefined();
  });

  it('accepts a code pasted with line breaks and spaces', () => {
    const code = signRegistrationCode(payload(), keys.privateKey);
    const wrapped = `  ${code.slice(0, 40)}\n${code.slice(40, 90)}\r\n ${code.slice(90)}  `;
    expect(verifyRegistrationCode(wrapped, keys.publicKey).maxMailboxes).toBe(250);
  });

  it('rejects every single-character change of the payload or the signature', () => {
    const code = signRegistrationCode(payload(), keys.privateKey);
    let tried = 0;
    for (let i = 0; i < code.length; i++) {
      // Flipping each of the low bits matters most: base64url's last character carries unused bits.
      const at = Math.max(0, BASE64URL_ALPHABET.indexOf(code[i]));
      const flips = [1, 2, 3, 4, 8, 16, 32, 63].map((x) => BASE64URL_ALPHABET[at ^ x]);
      for (const c of new Set([...flips, '.', '=', '+', '/', ' '])) {
        if (c === code[i]) continue;
        const tampered = code.slice(0, i) + c + code.slice(i + 1);
        const reason = reasonOf(() => verifyRegistrationCode(tampered, keys.publicKey));
        if (reason === 'accepted') throw new Error(`changing position ${i} to "${c}" was accepted`);
        expect(['malformed', 'bad_signature']).toContain(reason);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(code.length * 10);
  });

  it('names a changed payload byte a signature mismatch', () => {
    const code = signRegistrationCode(payload({ maxMailboxes: 250 }), keys.privateKey);
    const [body, sig] = code.slice(REGISTRATION_CODE_PREFIX.length).split('.');
    const json = Buffer.from(body, 'base64url').toString('utf8').replace('"maxMailboxes":250', '"maxMailboxes":950');
    const forged = `${REGISTRATION_CODE_PREFIX}${Buffer.from(json).toString('base64url')}.${sig}`;
    expect(reasonOf(() => verifyRegistrationCode(forged, keys.publicKey))).toBe('bad_signature');
  });

  it('rejects a code signed by another key', () => {
    const other = generateKeyPairSync('ed25519');
    const code = signRegistrationCode(payload(), other.privateKey);
    expect(reasonOf(() => verifyRegistrationCode(code, keys.publicKey))).toBe('bad_signature');
  });

  it('rejects an expired code, judged by the given clock', () => {
    const code = signRegistrationCode(payload({ expiresAt: '2030-06-01T00:00:00.000Z' }), keys.privateKey);
    expect(verifyRegistrationCode(code, keys.publicKey, new Date('2030-05-31T23:59:59Z')).id).toBeTruthy();
    expect(reasonOf(() => verifyRegistrationCode(code, keys.publicKey, new Date('2030-06-01T00:00:00Z')))).toBe('expired');
    expect(reasonOf(() => verifyRegistrationCode(code, keys.publicKey))).toBe('accepted');
  });

  it('rejects a correctly signed payload of another version or shape', () => {
    const signRaw = (obj: unknown) => {
      const bytes = Buffer.from(JSON.stringify(obj));
      return `${REGISTRATION_CODE_PREFIX}${bytes.toString('base64url')}.${sign(null, bytes, keys.privateKey).toString('base64url')}`;
    };
    expect(reasonOf(() => verifyRegistrationCode(signRaw({ ...payload(), v: 2 }), keys.publicKey))).toBe('wrong_version');
    expect(reasonOf(() => verifyRegistrationCode(signRaw({ ...payload(), maxDomains: 0 }), keys.publicKey))).toBe('malformed');
    expect(reasonOf(() => verifyRegistrationCode(signRaw({ ...payload(), domain: 'Example.COM' }), keys.publicKey))).toBe('malformed');
    expect(reasonOf(() => verifyRegistrationCode(signRaw({ ...payload(), extra: true }), keys.publicKey))).toBe('malformed');
    expect(reasonOf(() => verifyRegistrationCode(signRaw([1, 2]), keys.publicKey))).toBe('malformed');
  });

  it('rejects text that is not a code', () => {
    for (const text of ['', 'DIZI1-', 'DIZI2-abc.def', 'DIZI1-abc', 'DIZI1-a.b.c', 'DIZI1-!!!.abc']) {
      expect(reasonOf(() => verifyRegistrationCode(text, keys.publicKey))).toBe('malformed');
    }
  });

  it('refuses to sign an invalid payload', () => {
    expect(() => signRegistrationCode(payload({ maxMailboxes: 0 }), keys.privateKey)).toThrow(/maxMailboxes/);
    expect(() => signRegistrationCode(payload({ domain: 'localhost' }), keys.privateKey)).toThrow();
  });
});
