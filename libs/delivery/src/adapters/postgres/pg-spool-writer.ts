/**
 * SpoolWriter: the "commit, then 250" step (ARCHITECTURE.md "Inbound mail" 6). The message is written to the blob
 * store (fsync'd) and through the MIME summariser at the same time (in worker threads, summary-workers.ts, unless
 * SPOOL_SUMMARY_WORKERS is 0): a message that fits a shared slot (most mail) is gathered there whole and both read
 * it in place; a bigger one streams to both as it arrives;
 * then ONE statement inserts spool_message and its spool_recipient rows and counts the sender's send, for every
 * message whose DATA ended meanwhile (group commit, spool-rows.ts); only once it committed does `spool` resolve.
 * Enqueueing happens after the 250 and may fail: the sweeper re-enqueues committed work, so a lost Redis delays
 * mail and never loses it.
 */
import { PassThrough, Readable } from 'node:stream';
import type { Pool } from 'pg';
import { copyChunks } from '@dizi/mail-store/copy-chunks';
import { GroupCommit } from '@dizi/mail-store/group-commit';
import { BlobTooLargeError, type StoredBlob } from '@dizi/mail-store/ports/blob-store';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { SharedSlots } from '@dizi/mail-store/shared-slots';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { SummaryLimits } from '@dizi/mime/message-summary';
import type { InboundLogger, SpoolReceipt, SpoolRequest, SpoolWriter } from '@dizi/smtp/inbound/ports';
import { reject, SmtpReplyError } from '@dizi/smtp/inbound/verdict';
import { summaryLimitsOf } from '../../local/message-index';
import type { MailQueues } from '../../queue/mail-queues';
import { InlineSummaries, type SpoolSummariser, type SpoolSummary } from '../../inbound/spool-summary';
import { rememberCorrespondents } from './pg-trusted-senders';
import { insertSpoolRows, type SpoolRow } from './spool-rows';
import { SummaryWorkers } from '../../inbound/summary-workers';

export type SpoolQueues = Pick<MailQueues, 'enqueueDelivery' | 'enqueueOutbound'>;

/** An enqueue that hangs (Redis away, BullMQ retrying forever) is given up after this long; the sweeper takes over. */
const ENQUEUE_TIMEOUT_MS = 5000;

export class PgSpoolWriter implements SpoolWriter {
  private readonly commits: GroupCommit<SpoolRow, void>;
  private readonly summaries: SpoolSummariser;

  constructor(
    private readonly deps: {
      pool: Pool;
      store: MessageStore;
      queues: SpoolQueues;
      logger: InboundLogger;
      /** Worker threads computing the summaries (SPOOL_SUMMARY_WORKERS); 0 or absent: on this thread. */
      summaryWorkers?: number;
      /**
       * Where a whole message is gathered for the blob store and the summariser to read in place (the blob store's
       * threads and the summary threads are given the same memory). Absent: every message streams.
       */
      slots?: SharedSlots;
      /** The operator's settings (mimeMax*, mimeLimitAction), read per message; absent: libs/mime's defaults, deliver. */
      settings?: () => SmtpSettings;
    },
  ) {
    const workers = deps.summaryWorkers ?? 0;
    if (workers > 0) {
      const pool = new SummaryWorkers({
        size: workers,
        shared: deps.slots?.memory,
        onWorkerError: (err) => deps.logger.warn({ err: String(err) }, 'spool summary worker lost; its messages are spooled without a summary'),
      });
      pool.warm();
      this.summaries = pool;
    } else this.summaries = new InlineSummaries();
    this.commits = new GroupCommit<SpoolRow, void>({
      flush: async (rows) => {
        await insertSpoolRows(deps.pool, rows);
        return rows.map(() => undefined);
      },
    });
  }

  async spool(req: SpoolRequest, content: Readable): Promise<SpoolReceipt> {
    const slots = this.deps.slots;
    const settings = this.deps.settings?.();
    const limits = settings ? summaryLimitsOf(settings) : undefined;
    const { blob, summary } = slots ? await this.held(req, content, slots, limits) : await this.streamed(req, content, limits);
    // Past a MIME limit the message is delivered with its structure read up to it, unless the operator prefers to
    // refuse such mail now, before the 250 (never a bounce later). Nothing is committed; the blob is collected.
    if (summary?.degraded && settings?.mimeLimitAction === 'reject') {
      throw new SmtpReplyError(reject(554, '5.6.0', `Message refused: ${summary.degraded}`));
    }
    // The content filter sees the durable copy; it may refuse (throws), and then nothing below is committed.
    const marks = req.screen ? await req.screen({ hash: blob.hash, size: blob.size }) : null;

    // Committed together with whatever other sessions finished DATA meanwhile: one statement, one WAL flush.
    await this.commits.submit({ req, blobHash: blob.hash, size: blob.size, summary, marks });
    // The automatic whitelist: whom a signed-in user writes to is trusted by that user (best effort, after the commit).
    if (req.source === 'submission' && req.authMailboxId && (settings?.autoWhitelistEnabled ?? true)) {
      rememberCorrespondents(this.deps.pool, req.authMailboxId, req.recipients.map((r) => r.address))
        .catch((err: unknown) => this.deps.logger.warn({ err: String(err), id: req.id }, 'automatic whitelist not updated'));
    }
    // A quarantined message waits, held, for a user or admin to release it: nothing to hand to the queues now.
    // Nor a message held until its release time (sendAt, FUTURERELEASE): the sweeper enqueues it once that has passed.
    const held = !!marks?.quarantine || (!!req.releaseAt && req.releaseAt.getTime() > Date.now());
    return { id: req.id, size: blob.size, enqueue: () => (held ? Promise.resolve() : this.enqueue(req)) };
  }

  /** Ends the summary workers; messages still being summarised are spooled without one. */
  async close(): Promise<void> {
    await this.summaries.close();
  }

  /** Through a shared slot when the message fits one and one is free; streamed otherwise. */
  private async held(req: SpoolRequest, content: Readable, slots: SharedSlots, limits?: SummaryLimits): Promise<{ blob: StoredBlob; summary: SpoolSummary | null }> {
    const gathered = await gather(content, slots.slotBytes, req.maxBytes);
    if (gathered.rest) return this.streamed(req, gathered.rest, limits);
    const bytes = slots.take(gathered.size);
    // No free slot (a burst): the gathered chunks go the streaming way, each side copying them.
    if (!bytes) return this.streamed(req, Readable.from(gathered.chunks), limits);
    try {
      return await this.whole(req, copyChunks(bytes, gathered.chunks), limits);
    } finally {
      slots.give(bytes);
    }
  }

  /**
   * A message held whole goes to the blob store and the summariser at once. Both have stopped reading `bytes` when
   * this settles, also when one of them failed: the caller may then reuse them.
   */
  private async whole(req: SpoolRequest, bytes: Buffer, limits?: SummaryLimits): Promise<{ blob: StoredBlob; summary: SpoolSummary | null }> {
    const summarising = this.summaries.summarise(bytes, limits).catch((err: unknown) => {
      this.deps.logger.warn({ err: String(err), id: req.id }, 'message summary failed');
      return null;
    });
    const [blob, summary] = await Promise.allSettled([this.deps.store.putBlob(bytes, { maxBytes: req.maxBytes }), summarising]);
    if (blob.status === 'rejected') throw blob.reason;
    return { blob: blob.value, summary: summary.status === 'fulfilled' ? summary.value : null };
  }

  /** A message too big to hold whole is read once, as it streams in, by both. */
  private async streamed(req: SpoolRequest, content: Readable, limits?: SummaryLimits): Promise<{ blob: StoredBlob; summary: SpoolSummary | null }> {
    const toBlob = new PassThrough();
    const { sink: toSummary, summary } = this.summaries.start(limits);
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
    let abandoned = false;
    const summarising = summary.catch((err: unknown) => {
      // A summary is a convenience for delivery (it can parse again); never refuse mail for it. The sink keeps
      // taking the rest of the message.
      if (!abandoned) this.deps.logger.warn({ err: String(err), id: req.id }, 'message summary failed');
      return null;
    });
    let blob;
    try {
      blob = await this.deps.store.putBlob(toBlob, { maxBytes: req.maxBytes });
    } catch (err) {
      // Nothing will be spooled: a summary still waiting for the rest of the message (in a worker) is let go.
      abandoned = true;
      toSummary.destroy();
      throw err;
    }
    return { blob, summary: await summarising };
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
 * Reads `content` until its end or until more than `limit` bytes came. Whole: its chunks. Too big for that: `rest`, a
 * stream of everything (what was read first, then the remainder as it arrives). Past `maxBytes` it fails as the blob
 * store would, with BlobTooLargeError.
 */
async function gather(content: Readable, limit: number, maxBytes?: number): Promise<{ chunks: Buffer[]; size: number; rest?: Readable }> {
  const reader = content[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await reader.next();
    if (next.done) return { chunks, size };
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    size += chunk.length;
    if (maxBytes !== undefined && size > maxBytes) {
      await reader.return?.();
      throw new BlobTooLargeError(maxBytes);
    }
    chunks.push(chunk);
    if (size > limit) return { chunks, size, rest: Readable.from(remainder(chunks, reader)) };
  }
}

async function* remainder(first: Buffer[], reader: AsyncIterator<Buffer | string>): AsyncGenerator<Buffer> {
  try {
    yield* first.splice(0);
    for (;;) {
      const next = await reader.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  } finally {
    // Stopped early (the consumer failed): the source is let go, as a pipeline would.
    await reader.return?.();
  }
}
