/** The portal server's configuration, read once per process (libs/config/src/portal.config.ts lists every variable). */
import { loadPortalConfig, PortalConfig } from '@dizi/config/portal.config';
import { secretFromEnvOrDataDir } from '@dizi/config/secret-keys';

let loaded: { config: PortalConfig; sessionKey: Buffer } | undefined;

export function portalConfig(): PortalConfig {
  return load().config;
}

/** 32-byte AES-256-GCM key sealing the session cookie. */
export function sessionKey(): Buffer {
  return load().sessionKey;
}

function load() {
  if (!loaded) {
    const config = loadPortalConfig();
    const secret = secretFromEnvOrDataDir('PORTAL_SESSION_SECRET', config.PORTAL_SESSION_SECRET, config.DIZI_DATA_DIR, 'portal-session.key');
    const key = Buffer.from(secret.value, 'base64');
    if (key.length !== 32) throw new Error(`PORTAL_SESSION_SECRET must be 32 bytes in base64 (openssl rand -base64 32); ${secret.source} has ${key.length}`);
    loaded = { config, sessionKey: key };
  }
  return loaded;
}
