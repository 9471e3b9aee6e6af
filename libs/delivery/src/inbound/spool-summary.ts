/**
 * The summary the spool keeps for a message (spool_message.summary), computed while DATA streams in: in process
 * (InlineSummaries) or in worker threads (summary-workers.ts), which run the same spoolSummaryOf.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { SearchKeyList } from '@dizi/domain/search-key';
import { jsonForPostgres } from '@dizi/mail-store/json-for-postgres';
import { summariseMessage, type MessageSummary, type SummaryLimits } from '@dizi/mime/message-summary';
import { spoolSummary } from '../local/message-index';

/**
 * What the spool keeps of a message's summary: the summary as JSON (spool_message.summary), and apart from it the
 * keys of its search lexemes (spool_message.search_keys), which delivery copies into each message row in SQL
 * without reading them (a message of prose has some ten thousand).
 */
export interface SpoolSummary {
  json: string;
  searchKeys: SearchKeyList;
  /** Why the structure was read only up to a limit (MessageSummary.degraded); absent for most mail. */
  degraded?: string;
}

/** jsonb refuses \u0000; the scanner already refused NUL in DATA, this guards decoded header text. */
export function spoolSummaryOf(summary: MessageSummary): SpoolSummary {
  const { summary: kept, searchKeys } = spoolSummary(summary);
  const out: SpoolSummary = { json: jsonForPostgres(kept), searchKeys };
  if (summary.degraded) out.degraded = summary.degraded;
  return out;
}

/** Reads a whole message (streamed, or at hand) and returns its spool summary; rejects when it cannot be parsed. */
export async function summariseForSpool(source: Readable | Buffer, limits?: SummaryLimits): Promise<SpoolSummary> {
  return spoolSummaryOf(await summariseMessage(source, limits));
}

/** One message being summarised: its bytes are written into `sink`, then `json` settles. */
export interface SpoolSummaryJob {
  /**
   * Takes every byte of the message, also after the summary failed, so the blob side of the tee is never held up
   * for it. Destroying it abandons the summary.
   */
  sink: Writable;
  /** Rejects when there is no summary (parse error, worker crash or stall, closed): the spool row then has none. */
  summary: Promise<SpoolSummary>;
}

export interface SpoolSummariser {
  /** `limits`: the operator's MIME limits (settings mimeMax*), read when the message starts. */
  start(limits?: SummaryLimits): SpoolSummaryJob;
  /**
   * The summary of a message held whole. The bytes must not change until the promise settles (a view into shared
   * memory is read there by a worker, which has stopped when this settles).
   */
  summarise(bytes: Buffer, limits?: SummaryLimits): Promise<SpoolSummary>;
  close(): Promise<void>;
}

/** On the calling thread, as the message streams through (pool size 0; tests that want no threads). */
export class InlineSummaries implements SpoolSummariser {
  start(limits?: SummaryLimits): SpoolSummaryJob {
    const sink = new PassThrough();
    const summary = summariseForSpool(sink, limits);
    // Drained from here on so the tee keeps moving; the caller sees the failure through `summary`.
    summary.catch(() => {
      if (!sink.destroyed) sink.resume();
    });
    return { sink, summary };
  }

  summarise(bytes: Buffer, limits?: SummaryLimits): Promise<SpoolSummary> {
    return summariseForSpool(bytes, limits);
  }

  async close(): Promise<void> {
    // Nothing of its own: each message's work ends with that message.
  }
}
