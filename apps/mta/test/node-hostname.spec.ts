/** Issue 11 item 8: the node's name is a setting defaulting to the machine's name, and the development certificate carries it. */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMtaConfig } from '@dizi/config/mta.config';
import { loadTls } from '../src/tls';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const base = { DATABASE_URL: 'postgres://127.0.0.1:5432/x' };

describe('MTA_HOSTNAME', () => {
  it('defaults to the machine name (os.hostname()), not localhost', () => {
    expect(loadMtaConfig(base).MTA_HOSTNAME).toBe(hostname().toLowerCase());
    expect(loadMtaConfig({ ...base, MTA_HOSTNAME: 'MX1.Example.COM' }).MTA_HOSTNAME).toBe('mx1.example.com');
  });

  it('refuses a value that is not a host name (it goes into headers and replies)', () => {
    expect(() => loadMtaConfig({ ...base, MTA_HOSTNAME: 'mx.example.com\r\nX-Injected: 1' })).toThrow(/MTA_HOSTNAME/);
    expect(() => loadMtaConfig({ ...base, MTA_HOSTNAME: 'two words' })).toThrow(/MTA_HOSTNAME/);
  });

  it('names the development certificate after the node, and makes it again when the name changes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dizi-tls-test-'));
    dirs.push(dir);
    const cn = (pem: Buffer) => new X509Certificate(pem);
    const old = await loadTls(loadMtaConfig({ ...base, DIZI_DATA_DIR: dir, MTA_HOSTNAME: 'localhost' }));
    expect(cn(old.cert).subject).toContain('CN=localhost');
    const renamed = await loadTls(loadMtaConfig({ ...base, DIZI_DATA_DIR: dir, MTA_HOSTNAME: 'mx7.dizi.test' }));
    const cert = cn(renamed.cert);
    expect(cert.subject).toContain('CN=mx7.dizi.test');
    expect(cert.subjectAltName).toContain('DNS:mx7.dizi.test');
    // Clients that connect to localhost (mbsync, offlineimap) still find their name.
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect((await readFile(join(dir, 'tls', 'dev-cert.pem'))).equals(renamed.cert)).toBe(true);
    // Kept while the name stays.
    expect((await loadTls(loadMtaConfig({ ...base, DIZI_DATA_DIR: dir, MTA_HOSTNAME: 'mx7.dizi.test' }))).cert.equals(renamed.cert)).toBe(true);
  }, 60_000);
});
