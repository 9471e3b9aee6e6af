/**
 * Secrets kept in the database (the relay host password) sealed with AES-256-GCM under the installation's
 * key (SETTINGS_ENCRYPTION_KEY), bound by associated data to the field they belong to, so a value copied
 * into another field does not open. Sealed form: `enc:v1:` + base64(12-byte IV ‖ 16-byte tag ‖ ciphertext).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new SecretBoxError('the settings encryption key must be 32 bytes');
  }

  /** `field` names what the secret is (e.g. `smtp.relay.password`); open() must be given the same. */
  seal(plain: string, field: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(field, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The plain secret; throws SecretBoxError (never showing the value) when it is not sealed or not sealed with this key and field. */
  open(sealed: string, field: string): string {
    if (!isSealed(sealed)) throw new SecretBoxError(`${field} is not sealed`);
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError(`${field}: sealed value is too short`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(field, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`${field} cannot be decrypted with this key (is SETTINGS_ENCRYPTION_KEY the same on every node?)`);
    }
  }
}
