/**
 * SpoolWriter: the "commit, then 250" step (ARCHITECTURE.md "Inbound mail" 6). The message is written
 * once, as it streams in, to the blob store (fsync'd) and through the MIME summariser at the same time;
 * then ONE statement inserts spool_message and its spool_recipient rows and counts the sender's send, for every
 * message whose DATA ended meanwhile (group commit, spool-rows.ts); only once it committed does `spool` resolve.
 * Enqueueing happens after the 250 and may fail: the sweeper re-enqueues committed work, so a lost Redis delays
 * mail and never loses it.
 */
import { PassThrough, Readable } from 'node:stream';
import type { Pool } from 'pg';
import { GroupCommit } from '@dizi/mail-store/group-commit';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import { summariseMessage, type MessageSummary } from '@dizi/mime/message-summary';
import type { InboundLogger, SpoolReceipt, SpoolRequest, SpoolWriter } from '@dizi/smtp/inbound/ports';
import { spoolSummary } from '../local/message-index';
import type { MailQueues } from '../queue/mail-queues';
import { insertSpoolRows, type SpoolRow } from './spool-rows';

export type SpoolQueues = Pick<MailQueues, 'enqueueDelivery' | 'enqueueOutbound'>;

/** An enqueue that hangs (Redis away, BullMQ retrying forever) is given up after this long; the sweeper takes over. */
const ENQUEUE_TIMEOUT_MS = 5000;

export class PgSpoolWriter implements SpoolWriter {
  private readonly commits: GroupCommit<SpoolRow, void>;

  constructor(
    private readonly deps: { pool: Pool; store: MessageStore; queues: SpoolQueues; logger: InboundLogger },
  ) {
    this.commits = new GroupCommit<SpoolRow, void>({
      flush: async (rows) => {
        await insertSpoolRows(deps.pool, rows);
        return rows.map(() => undefined);
      },
    });
  }

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
    // The content filter sees the durable copy; it may refuse (throws), and then nothing below is committed.
    const marks = req.screen ? await req.screen({ hash: blob.hash, size: blob.size }) : null;

    // Committed together with whatever other sessions finished DATA meanwhile: one statement, one WAL flush.
    await this.commits.submit({ req, blobHash: blob.hash, size: blob.size, summary: summaryJson(summary), marks });
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

/**
 * The summary as the spool keeps it (search lexemes instead of the text, see spoolSummary). jsonb refuses \u0000;
 * the scanner already refused NUL in DATA, this guards decoded header text.
 */
function summaryJson(summary: MessageSummary | null): string | null {
  if (!summary) return null;
  return JSON.stringify(spoolSummary(summary)).replaceAll('\\u0000', '');
}
