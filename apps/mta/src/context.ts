/** What every role of a mail node shares: configuration, connections, stores and settings. */
import { resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import Redis from 'ioredis';
import { Pool } from 'pg';
import pino, { Logger } from 'pino';
import { SecretBox } from '@dizi/auth/secret-box';
import type { MtaConfig } from '@dizi/config/mta.config';
import { aes256Key, secretFromEnvOrDataDir } from '@dizi/config/secret-keys';
import { createDataSource, migrate } from '@dizi/db/data-source';
import type { DeliveryHandoff } from '@dizi/delivery/queue/local-first-queues';
import { SettingsSource } from '@dizi/delivery/settings-source';
import { ONE_SHOT_BYTES } from '@dizi/mail-store/adapters/blob-write-workers';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { RedisNotifier } from '@dizi/mail-store/adapters/redis-notifier';
import { S3BlobStore } from '@dizi/mail-store/adapters/s3-blob-store';
import type { BlobStore } from '@dizi/mail-store/ports/blob-store';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { Notifier } from '@dizi/mail-store/ports/notifier';
import { SharedSlots } from '@dizi/mail-store/shared-slots';
import { Srs } from '@dizi/smtp/srs/srs';
import { loadTls, TlsMaterial } from './tls';

export interface MtaContext {
  config: MtaConfig;
  logger: Logger;
  pool: Pool;
  /** Commands and BullMQ; blocking consumers make their own connections from it. */
  redis: Redis;
  blobs: BlobStore;
  store: MessageStore;
  notifier: Notifier;
  settings: SettingsSource;
  /** Opens what the API sealed in PostgreSQL under SETTINGS_ENCRYPTION_KEY (relay password, DKIM keys). */
  secretBox?: SecretBox;
  /** Rewrites senders of forwarded mail and checks bounces to them; the same secrets on every node. */
  srs?: Srs;
  tls: TlsMaterial;
  /** Set while this node runs the delivery role: the smtp role hands it spooled mail directly (local-first-queues.ts). */
  deliveryHandoff: DeliveryHandoff | null;
  /** Memory a received message is held in once for the blob and summary threads (INGEST_SLOTS); null when 0. */
  slots: SharedSlots | null;
  close(): Promise<void>;
}

export async function createContext(config: MtaConfig): Promise<MtaContext> {
  // Lines are gathered (4 KB, or a second at most) into one write(2) instead of one each: a session logs a line or
  // two per message, and a system call per line was a few per cent of the node's CPU under load. A SIGKILL may lose
  // the last second of lines; the mail log rows in PostgreSQL are the record.
  const logDestination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const logFlush = setInterval(() => logDestination.flush(), 1000);
  logFlush.unref();
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'dizi-mta', node: config.MTA_HOSTNAME } }, logDestination);

  // Migrations run under an advisory lock, so a node started alone (or before the API) is safe too.
  const migrator = createDataSource(config.DATABASE_URL, { poolSize: 2, applicationName: 'dizi-mta-migrate' });
  await migrator.initialize();
  await migrate(migrator, (p) => logger.info(p, 'migration progress'));
  await migrator.destroy();

  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 40, application_name: 'dizi-mta' });
  pool.on('error', (e) => logger.error({ err: e }, 'idle PostgreSQL connection failed'));
  const redis = new Redis(config.REDIS_URL, { keyPrefix: config.REDIS_PREFIX, maxRetriesPerRequest: null });
  redis.on('error', (e) => logger.warn({ err: e.message }, 'Redis connection error'));

  // Only the smtp role receives messages whole; other nodes reserve nothing.
  const slots = config.INGEST_SLOTS > 0 && config.MTA_ROLES.includes('smtp') ? new SharedSlots(ONE_SHOT_BYTES, config.INGEST_SLOTS) : null;
  const blobs: BlobStore =
    config.BLOB_STORE === 's3'
      ? new S3BlobStore(
          new S3Client({
            region: config.S3_REGION,
            endpoint: config.S3_ENDPOINT,
            forcePathStyle: !!config.S3_ENDPOINT,
            credentials: config.S3_ACCESS_KEY_ID ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY ?? '' } : undefined,
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          }),
          { bucket: config.S3_BUCKET! },
        )
      : new FsBlobStore(resolve(config.BLOB_DIR ?? resolve(config.DIZI_DATA_DIR, 'blobs')), { shared: slots?.memory });
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
  const tls = await loadTls(config);

  return {
    config, logger, pool, redis, blobs, store, notifier, settings, secretBox, srs, tls, deliveryHandoff: null, slots,
    async close() {
      await settings.stop();
      await notifier.close();
      // The filesystem store's read and write threads (nothing to close for S3).
      if (blobs instanceof FsBlobStore) await blobs.close();
      redis.disconnect();
      await pool.end();
      clearInterval(logFlush);
      logDestination.flushSync();
    },
  };
}
