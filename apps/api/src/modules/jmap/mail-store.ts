/**
 * The message store and change notifier the API serves mail from: the same PostgreSQL rows, blobs and Redis channels
 * the mail nodes use, assembled by the one composition function every mail process uses (@dizi/delivery/compose).
 */
import { hostname } from 'node:os';
import Redis from 'ioredis';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import type { ApiConfig } from '@dizi/config/api.config';
import { PgRecipientDirectory } from '@dizi/delivery/adapters/postgres/pg-recipient-directory';
import { PgSpoolWriter } from '@dizi/delivery/adapters/postgres/pg-spool-writer';
import { composeMailRuntime, type MailRuntime } from '@dizi/delivery/compose';
import { MailQueues } from '@dizi/delivery/queue/mail-queues';
import { Submission } from '@dizi/delivery/submission/submission.service';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { Notifier } from '@dizi/mail-store/ports/notifier';

export interface ApiMailStore {
  store: MessageStore;
  notifier: Notifier;
  /** The whole mail runtime (settings, spool, directory) for what the API sends, e.g. submissions. */
  runtime: MailRuntime;
  /** Commands (installation key prefix), e.g. the uploads of JMAP accounts. */
  redis: Redis;
  /** Who may send as what, and who receives: what SMTP submission checks against. */
  recipients: PgRecipientDirectory;
  /** SMTP submission's checks and spool, for JMAP EmailSubmission. */
  submission: Submission;
  /** The mail pool (the stored JMAP submissions and their held spool messages). */
  pool: Pool;
  close(): Promise<void>;
}

export async function createApiMailStore(config: ApiConfig, logger: Logger): Promise<ApiMailStore> {
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 10, application_name: 'dizi-api-mail' });
  pool.on('error', (e) => logger.error({ err: e }, 'idle PostgreSQL connection failed'));
  const redis = new Redis(config.REDIS_URL, { keyPrefix: config.REDIS_PREFIX, maxRetriesPerRequest: 2 });
  redis.on('error', (e) => logger.warn({ err: e.message }, 'Redis connection error'));
  try {
    const runtime = await composeMailRuntime({ config, pool, redis, hostname: hostname(), logger });
    const recipients = new PgRecipientDirectory(pool);
    const queues = new MailQueues(redis, config.REDIS_PREFIX);
    const settings = () => runtime.settings.smtp;
    const spool = new PgSpoolWriter({ pool, store: runtime.store, queues, logger, settings });
    const submission = new Submission({ directory: recipients, spool, settings });
    return {
      store: runtime.store,
      notifier: runtime.notifier,
      runtime,
      redis,
      recipients,
      submission,
      pool,
      async close() {
        await queues.close();
        await runtime.close();
        redis.disconnect();
        await pool.end();
      },
    };
  } catch (e) {
    redis.disconnect();
    await pool.end();
    throw e;
  }
}
