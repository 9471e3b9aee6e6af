import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aes256Key, secretFromEnvOrDataDir } from './secret-keys';

describe('installation secrets', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const dataDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'dizi-keys-'));
    dirs.push(d);
    return d;
  };

  it('takes the variable when it is set, and writes nothing', async () => {
    const dir = await dataDir();
    const key = randomBytes(32).toString('base64');
    expect(secretFromEnvOrDataDir('SETTINGS_ENCRYPTION_KEY', ` ${key} `, dir, 'settings.key')).toEqual({ value: key, source: 'SETTINGS_ENCRYPTION_KEY' });
    await expect(stat(join(dir, 'keys'))).rejects.toThrow();
  });

  it('makes a development secret once under DIZI_DATA_DIR/keys, private, and reads the same one afterwards', async () => {
    const dir = await dataDir();
    const first = secretFromEnvOrDataDir('SETTINGS_ENCRYPTION_KEY', undefined, dir, 'settings.key');
    expect(first.source).toBe(join(dir, 'keys', 'settings.key'));
    expect(aes256Key(first)).toHaveLength(32);
    expect((await stat(first.source)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'keys'))).mode & 0o777).toBe(0o700);
    expect(secretFromEnvOrDataDir('SETTINGS_ENCRYPTION_KEY', '', dir, 'settings.key')).toEqual(first);
    expect((await readFile(first.source, 'utf8')).trim()).toBe(first.value);
    const other = secretFromEnvOrDataDir('SRS_SECRETS', undefined, dir, 'srs.secret');
    expect(other.value).not.toBe(first.value);
  });

  it('accepts a 256-bit key in base64 or hex and names the variable for anything else', () => {
    const key = randomBytes(32);
    expect(aes256Key({ value: key.toString('base64'), source: 'K' })).toEqual(key);
    expect(aes256Key({ value: key.toString('hex'), source: 'K' })).toEqual(key);
    expect(() => aes256Key({ value: randomBytes(16).toString('base64'), source: 'SETTINGS_ENCRYPTION_KEY' })).toThrow(/^SETTINGS_ENCRYPTION_KEY: must be a 256-bit key/);
    expect(() => aes256Key({ value: 'not a key at all, not base64!', source: 'K' })).toThrow(/256-bit/);
  });
});
