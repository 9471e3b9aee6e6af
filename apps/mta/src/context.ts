/** What every role of a mail node shares: configuration, connections, stores and settings. */
import Redis from 'ioredis';
import { Pool } from 'pg';
import pino, { Logger } from 'pino';
import type { MtaConfig } from '@dizi/config/mta.config';
import { createDataSource, migrate } from '@dizi/db/data-source';
import { composeMailRuntime } from '@dizi/delivery/compose';
import type { MailboxNotices } from '@dizi/delivery/local/local-delivery';
import type { DirectoryStore } from '@dizi/delivery/ports/directory-store';
import type { SieveScriptStore } from '@dizi/delivery/ports/sieve-script-store';
import type { SpoolStore } from '@dizi/delivery/ports/spool-store';
import type { DeliveryHandoff } from '@dizi/delivery/queue/local-first-queues';
import type { SettingsSource } from '@dizi/delivery/adapters/postgres/settings-source';
import type { SecretBox } from '@dizi/auth/secret-box';
import { ONE_SHOT_BYTES } from '@dizi/mail-store/adapters/blob-write-workers';
import type { BlobStore } from '@dizi/mail-store/ports/blob-store';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { Notifier } from '@dizi/mail-store/ports/notifier';
import { SharedSlots } from '@dizi/mail-store/shared-slots';
import type { Srs } from '@dizi/smtp/srs/srs';
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
  /** The delivery ports (composeMailRuntime): spool, directory, system notices on PostgreSQL. */
  spool: SpoolStore;
  directory: DirectoryStore;
  notices: MailboxNotices;
  /** Sieve scripts at three levels: delivery runs them, the sieve role (ManageSieve) edits them. */
  sieveScripts: SieveScriptStore;
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
  const mail = await composeMailRuntime({ config, pool, redis, hostname: config.MTA_HOSTNAME, logger, slots });
  const tls = await loadTls(config);

  const { blobs, store, notifier, settings, secretBox, srs, spool, directory, notices, sieveScripts } = mail;
  return {
    config, logger, pool, redis, blobs, store, notifier, settings, secretBox, srs, spool, directory, notices, sieveScripts, tls, deliveryHandoff: null, slots,
    async close() {
      await mail.close();
      redis.disconnect();
      await pool.end();
      clearInterval(logFlush);
      logDestination.flushSync();
    },
  };
}
