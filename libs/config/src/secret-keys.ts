/**
 * Secrets every node of an installation must share (the settings encryption key, the SRS secret): from the
 * environment in production; in development, when the variable is unset, made once under
 * DIZI_DATA_DIR/keys (mode 0600) so the API and the mail node started by `npm start` read the same one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface LoadedSecret {
  value: string;
  /** Where it came from: the variable's name, or the file made for development. */
  source: string;
}

/**
 * The variable's value, else the content of DIZI_DATA_DIR/keys/<fileName>, generated (random, base64) when
 * missing. The file appears atomically (linked from a private temporary file), so processes starting
 * together end up with the same secret.
 */
export function secretFromEnvOrDataDir(envName: string, envValue: string | undefined, dataDir: string, fileName: string, bytes = 32): LoadedSecret {
  if (envValue && envValue.trim() !== '') return { value: envValue.trim(), source: envName };
  const dir = resolve(dataDir, 'keys');
  const file = join(dir, fileName);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temp, `${randomBytes(bytes).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, file);
    } catch (e) {
      // Another process made it first: theirs is the one.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(temp);
    }
  }
  return { value: readFileSync(file, 'utf8').trim(), source: file };
}

/** A 256-bit key given as base64 (44 characters) or hex (64); anything else is refused with the variable's name. */
export function aes256Key(secret: LoadedSecret): Buffer {
  const v = secret.value;
  const key = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(v) && key.toString('base64') !== v)) {
    throw new Error(`${secret.source}: must be a 256-bit key, base64 (44 characters) or hex (64); make one with "openssl rand -base64 32"`);
  }
  return key;
}
