/**
 * Spool summaries computed by a small pool of worker threads. Parsing and tokenising a message costs the mail node's
 * main thread about as much as everything else it does for that message (half of it for 300 KB messages); with this
 * pool the main thread only copies the bytes across and receives one summary (JSON text and a key list) per message.
 *
 * What costs the main thread is the number of messages exchanged, not their bytes: each post wakes a worker, which on
 * a busy machine preempts the event loop, and each reply is a message event. So a message's bytes are gathered here
 * and posted in batches of batchBytes: ordinary mail goes in one post (start, bytes and end together) and comes back
 * in one reply (its result), nothing acknowledged. The summary is needed only at commit, after the blob's fsync, so
 * starting it at the end of DATA costs little (see BATCH_BYTES).
 *
 * A message held whole in the node's shared memory (SharedSlots, given to every thread when it starts) is not copied
 * at all: it goes as its offset and length, and its promise settles only once the worker is done reading there.
 *
 * Each message stays on one worker (its parser state lives there). Messages, kept small:
 *   to a worker:   { id, start?, chunk?: ArrayBuffer (transferred) | at + length (shared memory), end?, abort? }
 *   from a worker: { ready } once its modules are loaded, then per turn of its event loop
 *                  { acks: [id, bytes, id, bytes…], done: [[id, summary | null, error | null]…] }
 * Only a batch without the end is acknowledged, once the summariser took it; a message may have maxInFlightBytes
 * posted and unacknowledged, beyond which its sink stops calling back and the tee upstream waits, as it waits for
 * the in-process summariser. A message thus holds at most about batchBytes here plus batchBytes + maxInFlightBytes
 * with its worker.
 */
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { Writable } from 'node:stream';
import { BuiltinWorker } from '@dizi/mail-store/adapters/builtin-worker';
import { copyChunks } from '@dizi/mail-store/copy-chunks';
import type { SummaryLimits } from '@dizi/mime/message-summary';
import type { SpoolSummariser, SpoolSummary, SpoolSummaryJob } from './spool-summary';

export interface ToSummaryWorker {
  id: number;
  start?: true;
  chunk?: ArrayBuffer;
  /** The whole message is bytes [at, at + length) of the shared memory (start and end are set too). */
  at?: number;
  length?: number;
  end?: true;
  abort?: true;
  /** With `start`: the MIME limits for this message (absent: libs/mime's defaults). */
  limits?: SummaryLimits;
}

export type SummaryResult = [id: number, summary: SpoolSummary | null, error: string | null];

export interface FromSummaryWorker {
  ready?: true;
  acks?: number[];
  done?: SummaryResult[];
}

export interface SummaryWorkersOptions {
  /** Worker threads, started as messages need them. */
  size: number;
  /** Bytes of a message gathered on this thread before they are posted (a message up to this size is one post). */
  batchBytes?: number;
  /** Bytes of one message posted to its worker and not yet taken by the summariser; past it the sink holds back. */
  maxInFlightBytes?: number;
  /**
   * A worker that owes an answer and has said nothing for this long is stuck: it is ended, its summaries fail. Also
   * bounds its start (about a second: it loads the TypeScript loader and the MIME modules).
   */
  stallMs?: number;
  /** A worker crashed or stalled (once per worker; each affected message also fails through its `summary`). */
  onWorkerError?: (err: Error) => void;
  /** The worker's module (tests substitute a misbehaving one). */
  entry?: string;
  /** SharedSlots.memory: summarise() of a view into it posts the view's place instead of a copy. */
  shared?: SharedArrayBuffer;
}

/**
 * Most mail is well under this (text and small attachments; the 300 KB of bench:smtp's scenario c included), so it
 * costs one post. Bigger batches would save little (a post per 512 KB is small next to summarising them) while a
 * whole message summarised after the end of DATA delays the reply (on a free core 300 KB of text takes ~2 ms, 512 KB
 * ~3.5 ms, attachments far less; most of it, tokenising, came after the end when streamed too, and the blob's fsync
 * overlaps it), and 100 sessions gathering hold 50 MB here.
 */
const BATCH_BYTES = 512 * 1024;
/** Below one batch: a big message has one batch with its worker while the next is gathered here. */
const MAX_IN_FLIGHT_BYTES = 256 * 1024;
/** Well above the longest silence of a healthy worker: tokenising the text of a 100 MB message at its end. */
const STALL_MS = 20_000;
/** After a worker failed to start, messages go without a summary this long instead of starting one each. */
const RESTART_PAUSE_MS = 10_000;

// A worker gets none of the parent's node flags (builtin-worker.ts: they may name an inspector port), so TypeScript
// sources are loaded as the apps load them, through tools/register.cjs (SWC alone: a worker's heap stays ~11 MB).
const REGISTER = join(__dirname, '..', '..', '..', '..', 'tools', 'register.cjs');
const DEFAULT_ENTRY = join(__dirname, `summary-worker${extname(__filename)}`);

/**
 * SWC's native addon must stay loaded by this thread: loaded by a worker alone, it goes with that worker, and loading
 * it again in the next one crashes the process (segfault, Node 20). The apps have it loaded (tools/register.cjs);
 * vitest's test processes do not.
 */
let loaderPinned = false;
function pinTypeScriptLoader(): void {
  if (loaderPinned) return;
  createRequire(__filename)('@swc/core');
  loaderPinned = true;
}

interface Job {
  id: number;
  thread: SummaryThread;
  /** Bytes posted and not acknowledged. */
  inFlight: number;
  /** The sink's write callback, held while inFlight is at the limit. */
  held: (() => void) | null;
  /** The chunks not yet posted, and their bytes. */
  gathered: Uint8Array[];
  gatheredBytes: number;
  started: boolean;
  ended: boolean;
  limits: SummaryLimits | undefined;
  settled: boolean;
  /** Its bytes are in shared memory: a failure is reported only once the thread can no longer read them. */
  shared: boolean;
  resolve(summary: SpoolSummary): void;
  reject(err: Error): void;
}

interface SummaryThread {
  worker: BuiltinWorker<ToSummaryWorker, FromSummaryWorker>;
  jobs: Set<Job>;
  ready: boolean;
  gone: boolean;
  /** What it owes: bytes not acknowledged, and ended messages without a result. */
  unacked: number;
  awaiting: number;
  stall: NodeJS.Timeout | null;
}

export class SummaryWorkers implements SpoolSummariser {
  private readonly threads: SummaryThread[] = [];
  private readonly jobs = new Map<number, Job>();
  private readonly batchBytes: number;
  private readonly maxInFlight: number;
  private readonly stallMs: number;
  private readonly entry: string;
  private nextId = 0;
  private bootFailedAt = -Infinity;
  private closed = false;
  /** Messages posted to workers and received from them (tests check the cost of a message). */
  readonly exchanged = { posts: 0, replies: 0 };

  constructor(private readonly options: SummaryWorkersOptions) {
    if (!(options.size >= 1)) throw new Error('SummaryWorkers needs at least one thread (size 0: InlineSummaries)');
    this.batchBytes = options.batchBytes ?? BATCH_BYTES;
    this.maxInFlight = options.maxInFlightBytes ?? MAX_IN_FLIGHT_BYTES;
    this.stallMs = options.stallMs ?? STALL_MS;
    this.entry = options.entry ?? DEFAULT_ENTRY;
  }

  start(limits?: SummaryLimits): SpoolSummaryJob {
    const { job, summary } = this.open(limits);
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => this.write(job, chunk, callback),
      final: (callback) => {
        this.end(job);
        callback();
      },
      destroy: (err, callback) => {
        // Also called after a normal finish (autoDestroy); only an unfinished message is abandoned.
        if (!job.ended) this.abandon(job, err ?? new Error('message abandoned before its end'));
        callback(err);
      },
    });
    return { sink, summary };
  }

  /**
   * A message held whole, in one post and one reply. Bytes in the shared memory go as their place; the promise then
   * settles only once the worker has stopped reading them (its result, or its thread has exited).
   */
  summarise(bytes: Buffer, limits?: SummaryLimits): Promise<SpoolSummary> {
    const { job, summary } = this.open(limits);
    if (job.settled) return summary;
    job.ended = true;
    job.thread.awaiting += 1;
    const m: ToSummaryWorker = { id: job.id, end: true };
    if (this.options.shared !== undefined && bytes.buffer === this.options.shared) {
      m.at = bytes.byteOffset;
      m.length = bytes.length;
      job.shared = true;
    } else if (bytes.length > 0) {
      job.gathered.push(bytes);
      job.gatheredBytes = bytes.length;
      m.chunk = this.takeGathered(job);
    }
    this.post(job, m);
    this.watch(job.thread);
    return summary;
  }

  /** A new job on the least busy thread; settled at once (rejected) when there is none. */
  private open(limits?: SummaryLimits): { job: Job; summary: Promise<SpoolSummary> } {
    let resolve!: (summary: SpoolSummary) => void;
    let reject!: (err: Error) => void;
    const summary = new Promise<SpoolSummary>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Marked handled: a failure may come before the caller awaits it, and it is the caller's to report.
    summary.catch(() => undefined);
    const thread = this.pick();
    const job: Job = {
      // Without a thread the job is settled at once below, and a settled job never touches its thread.
      id: ++this.nextId,
      thread: thread!,
      inFlight: 0,
      held: null,
      gathered: [],
      gatheredBytes: 0,
      started: false,
      ended: false,
      limits,
      settled: false,
      shared: false,
      resolve,
      reject,
    };
    if (!thread) {
      job.settled = true;
      reject(new Error(this.closed ? 'summary workers are closed' : 'summary workers failed to start; retrying shortly'));
    } else {
      this.jobs.set(job.id, job);
      thread.jobs.add(job);
      // Referenced while it works for us, so a process waiting only for a summary stays alive; idle, it never does.
      if (thread.jobs.size === 1) thread.worker.hold();
    }
    return { job, summary };
  }

  /**
   * Starts every thread now (each takes most of a second to load its code) rather than on first use, so the first
   * messages after a node starts do not wait for one. Idle threads never keep the process alive.
   */
  warm(): void {
    while (!this.closed && this.threads.length < this.options.size) this.spawn();
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads.splice(0);
    for (const thread of threads) this.lose(thread, new Error('summary workers closed'), { quiet: true });
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  /** The least busy thread; a new one while some are missing and every running one has work. */
  private pick(): SummaryThread | null {
    if (this.closed) return null;
    let best: SummaryThread | null = null;
    for (const t of this.threads) if (!best || t.jobs.size < best.jobs.size) best = t;
    if (this.threads.length < this.options.size && (!best || best.jobs.size > 0)) {
      if (!best && performance.now() - this.bootFailedAt < RESTART_PAUSE_MS) return null;
      best = this.spawn();
    }
    return best;
  }

  private spawn(): SummaryThread {
    const typescript = this.entry.endsWith('.ts');
    if (typescript) pinTypeScriptLoader();
    const source = `${typescript ? `require(${JSON.stringify(REGISTER)});\n` : ''}require(${JSON.stringify(this.entry)});\n`;
    const thread: SummaryThread = { worker: null!, jobs: new Set(), ready: false, gone: false, unacked: 0, awaiting: 0, stall: null };
    // Its events come later, from the thread's own event loop, and name the thread they belong to.
    thread.worker = new BuiltinWorker<ToSummaryWorker, FromSummaryWorker>('summary', source, {
      message: (m) => this.onMessage(thread, m),
      gone: (err) => this.lose(thread, err),
    }, { shared: this.options.shared });
    this.threads.push(thread);
    return thread;
  }

  private write(job: Job, chunk: Buffer, callback: () => void): void {
    // After a failure the message is still read to its end for the blob store; its bytes are dropped here.
    if (job.settled) return callback();
    // Held as it is (a stream's chunks are not reused once passed on; the blob side of the tee holds the same ones),
    // and copied once, when its batch leaves.
    job.gathered.push(chunk);
    job.gatheredBytes += chunk.byteLength;
    if (job.gatheredBytes < this.batchBytes) return callback();
    const bytes = job.gatheredBytes;
    this.post(job, { id: job.id, chunk: this.takeGathered(job) });
    job.inFlight += bytes;
    job.thread.unacked += bytes;
    this.watch(job.thread);
    if (job.inFlight >= this.maxInFlight) job.held = callback;
    else callback();
  }

  private end(job: Job): void {
    if (job.settled) return;
    job.ended = true;
    job.thread.awaiting += 1;
    // The last bytes go with the end, and are not acknowledged: the result answers for them.
    const m: ToSummaryWorker = { id: job.id, end: true };
    if (job.gatheredBytes > 0) m.chunk = this.takeGathered(job);
    this.post(job, m);
    this.watch(job.thread);
  }

  private abandon(job: Job, err: Error): void {
    if (job.settled) return;
    // A message the worker has not heard of yet costs it nothing.
    if (job.started) this.post(job, { id: job.id, abort: true });
    this.finish(job, err, null);
  }

  /**
   * The gathered bytes copied into a buffer of their own, which is moved across: never a chunk's memory, which the
   * blob side still reads and which may be a view into a larger (pooled) buffer, all of which posting would copy.
   */
  private takeGathered(job: Job): ArrayBuffer {
    const batch = copyChunks(new Uint8Array(job.gatheredBytes), job.gathered);
    job.gathered = [];
    job.gatheredBytes = 0;
    return batch.buffer;
  }

  private post(job: Job, m: ToSummaryWorker): void {
    if (!job.started) {
      m.start = true;
      if (job.limits) m.limits = job.limits;
      job.started = true;
    }
    this.exchanged.posts += 1;
    job.thread.worker.post(m, m.chunk ? [m.chunk] : undefined);
  }

  private onMessage(thread: SummaryThread, m: FromSummaryWorker): void {
    this.exchanged.replies += 1;
    thread.stall?.refresh();
    if (m.ready) thread.ready = true;
    const acks = m.acks ?? [];
    for (let i = 0; i < acks.length; i += 2) {
      const job = this.jobs.get(acks[i]);
      if (!job || job.thread !== thread) continue;
      job.inFlight -= acks[i + 1];
      thread.unacked -= acks[i + 1];
      if (job.held && job.inFlight < this.maxInFlight) {
        const callback = job.held;
        job.held = null;
        callback();
      }
    }
    for (const [id, summary, error] of m.done ?? []) {
      const job = this.jobs.get(id);
      if (job?.thread === thread) this.finish(job, error === null ? null : new Error(error), summary);
    }
    this.watch(thread);
  }

  private finish(job: Job, err: Error | null, summary: SpoolSummary | null): void {
    if (job.settled) return;
    job.settled = true;
    const thread = job.thread;
    this.jobs.delete(job.id);
    thread.jobs.delete(job);
    thread.unacked -= job.inFlight;
    job.inFlight = 0;
    job.gathered = [];
    job.gatheredBytes = 0;
    if (job.ended) thread.awaiting -= 1;
    if (thread.jobs.size === 0 && !thread.gone) thread.worker.release();
    this.watch(thread);
    const held = job.held;
    job.held = null;
    held?.();
    if (summary !== null && !err) job.resolve(summary);
    // A thread that is gone may still be stopping, in the middle of reading the message's shared bytes.
    else if (job.shared && thread.gone) void thread.worker.exited.then(() => job.reject(err ?? new Error('summary worker returned nothing')));
    else job.reject(err ?? new Error('summary worker returned nothing'));
  }

  /**
   * The stall clock runs only while the thread owes something (its start included): a worker waiting for a slow
   * sender is not stuck.
   */
  private watch(thread: SummaryThread): void {
    const owes = !thread.gone && (thread.unacked > 0 || thread.awaiting > 0);
    if (owes && !thread.stall) {
      thread.stall = setTimeout(() => {
        this.lose(thread, new Error(`summary worker made no progress for ${this.stallMs} ms`));
        void thread.worker.terminate();
      }, this.stallMs);
      thread.stall.unref();
    } else if (!owes && thread.stall) {
      clearTimeout(thread.stall);
      thread.stall = null;
    }
  }

  /** The thread is out of the pool (crashed, stuck or closed): its messages fail; the next message starts another. */
  private lose(thread: SummaryThread, err: Error, opts: { quiet?: boolean } = {}): void {
    if (thread.gone) return;
    thread.gone = true;
    if (!thread.ready) this.bootFailedAt = performance.now();
    if (thread.stall) clearTimeout(thread.stall);
    thread.stall = null;
    const i = this.threads.indexOf(thread);
    if (i >= 0) this.threads.splice(i, 1);
    if (!opts.quiet) this.options.onWorkerError?.(err);
    for (const job of [...thread.jobs]) this.finish(job, err, null);
  }
}
