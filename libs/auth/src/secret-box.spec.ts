import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSealed, SecretBox, SecretBoxError } from './secret-box';

const FIELD = 'smtp.relay.password';

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('seals with AES-256-GCM: a fresh IV each time, nothing of the plain text visible, opens to the same text', () => {
    const a = box.seal('relay-Secret-4711 密码', FIELD);
    const b = box.seal('relay-Secret-4711 密码', FIELD);
    expect(a).not.toBe(b);
    expect(isSealed(a)).toBe(true);
    expect(a).not.toContain('relay');
    expect(Buffer.from(a.slice('enc:v1:'.length), 'base64').length).toBe(12 + 16 + Buffer.byteLength('relay-Secret-4711 密码'));
    expect(box.open(a, FIELD)).toBe('relay-Secret-4711 密码');
    expect(box.open(box.seal('', FIELD), FIELD)).toBe('');
  });

  it('refuses another key, another field, a changed byte and clear text, never echoing the value', () => {
    const sealed = box.seal('top-secret', FIELD);
    const raw = Buffer.from(sealed.slice(7), 'base64');
    raw[raw.length - 1] ^= 1;
    const attempts = [
      () => new SecretBox(randomBytes(32)).open(sealed, FIELD),
      () => box.open(sealed, 'smtp.relay.username'),
      () => box.open(`enc:v1:${raw.toString('base64')}`, FIELD),
      () => box.open('enc:v1:AAAA', FIELD),
      () => box.open('top-secret', FIELD),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(SecretBoxError);
      try {
        attempt();
      } catch (e) {
        expect(String(e)).not.toContain('top-secret');
      }
    }
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});
