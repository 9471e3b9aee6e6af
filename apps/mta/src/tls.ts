/** TLS material for the mail listeners: the configured PEM files, or a self-signed pair made once for development. */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import type { MtaConfig } from '@dizi/config/mta.config';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
}

export async function loadTls(config: MtaConfig): Promise<TlsMaterial> {
  if (config.TLS_CERT_FILE && config.TLS_KEY_FILE) {
    return { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) };
  }
  const dir = join(config.DIZI_DATA_DIR, 'tls');
  const certFile = join(dir, 'dev-cert.pem');
  const keyFile = join(dir, 'dev-key.pem');
  // Made again when the node's name changed (a pair from before MTA_HOSTNAME named the machine said localhost).
  if (!existsSync(certFile) || !existsSync(keyFile) || !namesHost(readFileSync(certFile), config.MTA_HOSTNAME)) {
    const pems = await selfsigned.generate([{ name: 'commonName', value: config.MTA_HOSTNAME }], {
      keySize: 2048,
      notAfterDate: new Date(Date.now() + 3650 * 86_400_000),
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 2, value: config.MTA_HOSTNAME }, { type: 7, ip: '127.0.0.1' }] }],
    });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    writeFileSync(certFile, pems.cert);
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

function namesHost(pem: Buffer, host: string): boolean {
  try {
    const cert = new X509Certificate(pem);
    return cert.subject.split('\n').includes(`CN=${host}`) && cert.checkHost(host) !== undefined;
  } catch {
    return false;
  }
}
