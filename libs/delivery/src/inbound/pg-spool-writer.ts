/**
 * SpoolWriter: the "commit, then 250" step (ARCHITECTURE.md "Inbound mail" 6). The message is written
 * once, as it streams in, to the blob store (fsync'd) and through the MIME summariser at the same time;
 * then ONE transaction inserts spool_message and its spool_recipient rows and counts the sender's send;
 * only then does `spool` resolve. Enqueueing happens after the 250 and may fail: the sweeper re-enqueues
 * committed work, so a lost Redis delays mail and never loses it.
 */
import { PassThrough, Readable } from 'node:stream';
import type { Pool } from 'pg';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import { summariseMessage, type MessageSummary } from '@dizi/mime/message-summary';
import type { InboundLogger, SpoolReceipt, SpoolRequest, SpoolWriter } from '@dizi/smtp/inbound/ports';
import type { MailQueues } from '../queue/mail-queues';
import { SEND_DAY_SQL } from './pg-recipient-directory';

export type SpoolQueues = Pick<MailQueues, 'enqueueDelivery' | 'enqueueOutbound'>;

/** An enqueue that hangs (Redis away, BullMQ retrying forever) is given up after this long; the sweeper takes over. */
const ENQUEUE_TIMEOUT_MS = 5000;

export class PgSpoolWriter implements SpoolWriter {
  constructor(
    private readonly deps: { pool: Pool; store: MessageStore; queues: SpoolQueues; logger: InboundLogger },
  ) {}

  async spool(req: SpoolRequest, content: Readable): Promise<SpoolReceipt> {
    const toBlob = new PassThrough();
    const toSummary = new PassThrough();
    // Their consumers may attach late (after an await); the failure reaches us through putBlob and summarising.
    toBlob.on('error', () => undefined);
    toSummary.on('error', () => undefined);
    // pipe() waits for the slower of the two, so the message is read once without buffering it whole.
    content.pipe(toBlob);
    content.pipe(toSummary);
    content.on('error', (err) => {
      toBlob.destroy(err);
      toSummary.destroy(err);
    });
    const summarising = summariseMessage(toSummary).catch((err: unknown) => {
      // A summary is a convenience for delivery (it can parse again); never refuse mail for it.
      if (!toSummary.destroyed) toSummary.resume();
      this.deps.logger.warn({ err: String(err), id: req.id }, 'message summary failed');
      return null;
    });
    const blob = await this.deps.store.putBlob(toBlob, { maxBytes: req.maxBytes });
    const summary = await summarising;

    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO spool_message (id, blob_hash, size, mail_from, source, session_id, client_ip, helo, auth_mailbox_id, env_id, dsn_ret, summary)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [req.id, blob.hash, blob.size, req.mailFrom, req.source, req.sessionId, req.clientIp, req.helo, req.authMailboxId, req.envId, req.dsnRet, summaryJson(summary)],
      );
      await client.query(
        `INSERT INTO spool_recipient (message_id, address, original_address, kind, domain, dsn_notify)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
        [
          req.id,
          req.recipients.map((r) => r.address),
          req.recipients.map((r) => r.originalAddress),
          req.recipients.map((r) => r.kind),
          req.recipients.map((r) => r.domain),
          req.recipients.map((r) => r.dsnNotify),
        ],
      );
      if (req.authMailboxId) {
        await client.query(
          `INSERT INTO send_count (mailbox_id, day, messages) VALUES ($1, ${SEND_DAY_SQL}, 1)
           ON CONFLICT (mailbox_id, day) DO UPDATE SET messages = send_count.messages + 1`,
          [req.authMailboxId],
        );
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }

    return { id: req.id, size: blob.size, enqueue: () => this.enqueue(req) };
  }

  private async enqueue(req: SpoolRequest): Promise<void> {
    const adds: Array<Promise<unknown>> = [];
    if (req.recipients.some((r) => r.kind === 'local')) adds.push(this.deps.queues.enqueueDelivery(req.id));
    for (const domain of new Set(req.recipients.filter((r) => r.kind === 'remote').map((r) => r.domain))) {
      adds.push(this.deps.queues.enqueueOutbound(req.id, domain));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`enqueue took longer than ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
      timer.unref();
    });
    try {
      await Promise.race([Promise.all(adds), timeout]);
    } catch (err) {
      this.deps.logger.warn({ err: String(err), id: req.id }, 'enqueue failed; the sweeper will pick the message up');
    } finally {
      clearTimeout(timer);
    }
  }
}

/** jsonb refuses \u0000; the scanner already refused NUL in DATA, this guards decoded header text. */
function summaryJson(summary: MessageSummary | null): string | null {
  if (!summary) return null;
  return JSON.stringify(summary).replaceAll('\\u0000', '');
}
