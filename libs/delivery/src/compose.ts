/**
 * The one place a process assembles mail: blob store, message store, notifier, settings, SRS and the delivery ports
 * (spool, directory, notices) from validated config (@dizi/config/mail-runtime.config) and the process's own pool
 * and Redis. apps/mta builds its context with it; apps/api uses the same to serve mail without reaching into apps/mta.
 */
import { resolve } from 'node:path';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { SecretBox } from '@dizi/auth/secret-box';
import type { MailRuntimeConfig } from '@dizi/config/mail-runtime.config';
import { aes256Key, secretFromEnvOrDataDir } from '@dizi/config/secret-keys';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { RedisNotifier } from '@dizi/mail-store/adapters/redis-notifier';
import { s3BlobStoreAt } from '@dizi/mail-store/adapters/s3-client';
import type { BlobStore } from '@dizi/mail-store/ports/blob-store';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { Notifier } from '@dizi/mail-store/ports/notifier';
import type { SharedSlots } from '@dizi/mail-store/shared-slots';
import { Srs } from '@dizi/smtp/srs/srs';
import { postgresDeliveryStores } from './adapters/postgres/delivery-stores';
import type { MailboxNotices } from './local/local-delivery';
import type { DirectoryStore } from './ports/directory-store';
import type { SpoolStore } from './ports/spool-store';
import type { SieveScriptStore } from './ports/sieve-script-store';
import { SettingsSource } from './adapters/postgres/settings-source';

export interface MailRuntimeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MailRuntimeOptions {
  config: MailRuntimeConfig;
  pool: Pool;
  /** Commands; the notifier and the settings subscribe on connections of their own made from it. */
  redis: Redis;
  /** The name in Message-IDs of notices (MTA_HOSTNAME on a node). */
  hostname: string;
  logger: MailRuntimeLogger;
  /** Memory shared with the blob writer threads (a node's smtp role); none elsewhere. */
  slots?: SharedSlots | null;
}

export interface MailRuntime {
  blobs: BlobStore;
  store: MessageStore;
  notifier: Notifier;
  /** The operators' SMTP settings, kept current through Redis. */
  settings: SettingsSource;
  /** Opens what the API sealed in PostgreSQL under SETTINGS_ENCRYPTION_KEY (relay password, DKIM keys). */
  secretBox: SecretBox;
  /** Rewrites senders of forwarded mail and checks bounces to them; the same secrets on every node. */
  srs: Srs;
  spool: SpoolStore;
  directory: DirectoryStore;
  notices: MailboxNotices;
  sieveScripts: SieveScriptStore;
  /** Stops what it started (settings subscription, notifier, blob threads); the pool and Redis stay the caller's. */
  close(): Promise<void>;
}

export function createBlobStore(config: MailRuntimeConfig, slots?: SharedSlots | null): BlobStore {
  if (config.BLOB_STORE === 's3') {
    return s3BlobStoreAt({
      bucket: config.S3_BUCKET!, region: config.S3_REGION, endpoint: config.S3_ENDPOINT,
      accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    });
  }
  return new FsBlobStore(resolve(config.BLOB_DIR ?? resolve(config.DIZI_DATA_DIR, 'blobs')), { shared: slots?.memory });
}

export async function composeMailRuntime(o: MailRuntimeOptions): Promise<MailRuntime> {
  const { config, pool, redis, logger } = o;
  const blobs = createBlobStore(config, o.slots);
  // Notifications carry no key prefix of their own: give them the installation's.
  const notifier = new RedisNotifier(redis, { prefix: `${config.REDIS_PREFIX}mailbox:`, onError: (e) => logger.warn({ err: String(e) }, 'notifier error') });
  const store = new PostgresMessageStore({ pool, blobs, notifier });
  const settingsKey = secretFromEnvOrDataDir('SETTINGS_ENCRYPTION_KEY', config.SETTINGS_ENCRYPTION_KEY, config.DIZI_DATA_DIR, 'settings.key');
  const secretBox = new SecretBox(aes256Key(settingsKey));
  const settings = new SettingsSource(pool, (e) => logger.warn({ err: String(e) }, 'settings reload failed'), { secretBox });
  const srsSecrets = secretFromEnvOrDataDir('SRS_SECRETS', config.SRS_SECRETS, config.DIZI_DATA_DIR, 'srs.secret');
  const srs = new Srs({ secrets: srsSecrets.value.split(',').map((s) => s.trim()), maxAgeDays: config.SRS_MAX_AGE_DAYS });
  // Where the shared secrets come from (never their values): a generated file is fine for one machine only.
  logger.info({ settingsKey: settingsKey.source, srsSecrets: srsSecrets.source }, 'installation secrets loaded');
  await settings.start(redis);
  return {
    blobs, store, notifier, settings, secretBox, srs, ...postgresDeliveryStores(pool, store, o.hostname),
    async close() {
      await settings.stop();
      await notifier.close();
      // The filesystem store's read and write threads (nothing to close for S3).
      if (blobs instanceof FsBlobStore) await blobs.close();
    },
  };
}
