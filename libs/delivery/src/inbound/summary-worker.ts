/**
 * Entry of a spool summary worker thread (started by summary-workers.ts, which describes the messages exchanged).
 * A message arrives whole in one post, or in batches summarised as a stream, like InlineSummaries does on the main
 * thread.
 */
import { PassThrough } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { summariseForSpool } from './spool-summary';
import type { FromSummaryWorker, SummaryResult, ToSummaryWorker } from './summary-workers';

const port = parentPort;
if (!port) throw new Error('summary-worker.ts runs as a worker thread (see summary-workers.ts)');

/** The node's shared memory (SharedSlots), where a whole message may be handed over as an offset and a length. */
const shared = (workerData as { shared?: SharedArrayBuffer } | null)?.shared;
const sharedBytes = shared ? Buffer.from(shared) : null;
const messages = new Map<number, PassThrough>();
// Acknowledgements and results leave in one message per turn of the event loop: one per chunk would cost the main
// thread a message event each.
let acks: number[] = [];
let done: SummaryResult[] = [];
let flushing = false;

function flushSoon(): void {
  if (flushing) return;
  flushing = true;
  setImmediate(() => {
    flushing = false;
    const out: FromSummaryWorker = {};
    if (acks.length > 0) out.acks = acks;
    if (done.length > 0) out.done = done;
    acks = [];
    done = [];
    port!.postMessage(out);
  });
}

function summarise(id: number, source: PassThrough | Buffer, limits: ToSummaryWorker['limits']): void {
  summariseForSpool(source, limits).then(
    (summary) => done.push([id, summary, null]),
    (err: unknown) => done.push([id, null, err instanceof Error ? err.message : String(err)]),
  ).finally(() => {
    messages.delete(id);
    flushSoon();
  });
}

port.on('message', (m: ToSummaryWorker) => {
  // A whole message in one post (most mail) is summarised from its buffer: no stream, nothing to acknowledge.
  // From shared memory it is read in place: the main thread lends those bytes until the result is back.
  if (m.start && m.end && m.length !== undefined) return summarise(m.id, sharedBytes!.subarray(m.at!, m.at! + m.length), m.limits);
  if (m.start && m.end) return summarise(m.id, m.chunk ? Buffer.from(m.chunk) : Buffer.alloc(0), m.limits);
  let stream = messages.get(m.id);
  if (m.start) {
    stream = new PassThrough();
    messages.set(m.id, stream);
    summarise(m.id, stream, m.limits);
  }
  // Batches of a message that already failed, or was abandoned, are dropped (the main thread stopped counting them).
  if (!stream) return;
  if (m.abort) {
    messages.delete(m.id);
    stream.destroy(new Error('abandoned'));
    return;
  }
  if (m.chunk && m.end) stream.write(Buffer.from(m.chunk));
  else if (m.chunk) {
    const bytes = m.chunk.byteLength;
    // Called once the summariser took the batch (the PassThrough holds it back while its reader is behind), so the
    // main thread's allowance per message bounds what waits here. The last batch is answered by the result.
    stream.write(Buffer.from(m.chunk), () => {
      acks.push(m.id, bytes);
      flushSoon();
    });
  }
  if (m.end) stream.end();
});

port.postMessage({ ready: true } satisfies FromSummaryWorker);
