/**
 * The message store, blob store and change notifier the API serves mail from: the same PostgreSQL rows, blobs and
 * Redis channels the mail nodes use. Kept in this one file so the shared composition function can replace it.
 */
import { resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import Redis from 'ioredis';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import type { ApiConfig } from '@dizi/config/api.config';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { RedisNotifier } from '@dizi/mail-store/adapters/redis-notifier';
import { S3BlobStore } from '@dizi/mail-store/adapters/s3-blob-store';
import type { BlobStore } from '@dizi/mail-store/ports/blob-store';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { Notifier } from '@dizi/mail-store/ports/notifier';

export interface ApiMailStore {
  store: MessageStore;
  notifier: Notifier;
  close(): Promise<void>;
}

export function createApiMailStore(config: ApiConfig, logger: Logger): ApiMailStore {
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  if (config.BLOB_STORE === 's3' && !config.S3_BUCKET) throw new Error('S3_BUCKET is required when BLOB_STORE=s3');
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 10, application_name: 'dizi-api-mail' });
  pool.on('error', (e) => logger.error({ err: e }, 'idle PostgreSQL connection failed'));
  const redis = new Redis(config.REDIS_URL, { keyPrefix: config.REDIS_PREFIX, maxRetriesPerRequest: 2 });
  redis.on('error', (e) => logger.warn({ err: e.message }, 'Redis connection error'));
  const blobs: BlobStore = config.BLOB_STORE === 's3'
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
    : new FsBlobStore(resolve(config.BLOB_DIR ?? resolve(config.DIZI_DATA_DIR, 'blobs')));
  // Notifications carry no key prefix of their own: the installation's, as the mail nodes publish them.
  const notifier = new RedisNotifier(redis, { prefix: `${config.REDIS_PREFIX}mailbox:`, onError: (e) => logger.warn({ err: String(e) }, 'notifier error') });
  const store = new PostgresMessageStore({ pool, blobs, notifier });
  return {
    store,
    notifier,
    async close() {
      await notifier.close();
      if (blobs instanceof FsBlobStore) await blobs.close();
      redis.disconnect();
      await pool.end();
    },
  };
}
