/**
 * Entry of a spool summary worker thread (started by summary-workers.ts, which describes the messages exchanged).
 * Each message arrives as chunks and is summarised as a stream, like InlineSummaries does on the main thread.
 */
import { PassThrough } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { summariseForSpool } from './spool-summary';
import type { FromSummaryWorker, SummaryResult, ToSummaryWorker } from './summary-workers';

const port = parentPort;
if (!port) throw new Error('summary-worker.ts runs as a worker thread (see summary-workers.ts)');

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
    const out: FromSummaryWorker = { acks, done };
    acks = [];
    done = [];
    port!.postMessage(out);
  });
}

function begin(id: number): PassThrough {
  const stream = new PassThrough();
  messages.set(id, stream);
  summariseForSpool(stream).then(
    (json) => done.push([id, json, null]),
    (err: unknown) => done.push([id, null, err instanceof Error ? err.message : String(err)]),
  ).finally(() => {
    messages.delete(id);
    flushSoon();
  });
  return stream;
}

port.on('message', (m: ToSummaryWorker) => {
  // Chunks of a message that already failed, or was abandoned, are dropped (the main thread stopped counting them).
  const stream = m.start ? begin(m.id) : messages.get(m.id);
  if (!stream) return;
  if (m.abort) {
    messages.delete(m.id);
    stream.destroy(new Error('abandoned'));
    return;
  }
  if (m.chunk) {
    const bytes = m.chunk.byteLength;
    // Called once the summariser took the chunk (the PassThrough holds it back while its reader is behind), so the
    // main thread's allowance per message bounds what waits here.
    stream.write(Buffer.from(m.chunk), () => {
      acks.push(m.id, bytes);
      flushSoon();
    });
  }
  if (m.end) stream.end();
});

port.postMessage({ ready: true } satisfies FromSummaryWorker);
