/**
 * FsBlobStore.put done by worker threads. Written from the event loop, one blob cost ten thread-pool round trips
 * (open, writev, fsync, close, stat, mkdir, rename, open, fsync, close the directory), each with its FileHandle and
 * promise machinery and each wake-up preempting the main thread; here a worker does them all with plain blocking
 * calls, and the main thread posts the content and hears back twice: once the hash is known, once the blob is durable
 * under its name.
 */
import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobTooLargeError, type BlobPutOptions, type StoredBlob } from '../ports/blob-store';
import { BuiltinWorker } from './builtin-worker';

/** Chunks are gathered up to this many bytes per message to a worker (and per write there). */
const WRITE_BYTES = 256 * 1024;

/**
 * Bytes of one put posted to its worker and not yet written there; past this the source is no longer read (a piped
 * socket pauses) until the worker catches up. Two batches: one being written while the next one travels.
 */
const MAX_UNWRITTEN = 2 * WRITE_BYTES;

/** `<h0h1>/<h2h3>` directories (65,536) then `<h0h1>` ones (256), one bit each. */
const DIR_BITS = 65_536 + 256;

/** Main thread → worker. The first message of a put carries `tmp`; a put with nothing sent has no temp file yet. */
interface WriteCommand {
  id: number;
  tmp?: string;
  data?: ArrayBuffer;
  /** Answer with the bytes written so far (backpressure). */
  ack?: 1;
  /** No more data: answer with the hash, then fsync. */
  end?: 1;
  /** beforeCommit is done: give the blob its name once its content is fsync'd. */
  commit?: 1;
  /** Close and remove the temp file. */
  abort?: 1;
}

/** Worker → main thread, sent in arrays: whatever a worker has to say after one batch of messages goes as one. */
interface WriteReply {
  id?: number;
  acked?: number;
  hash?: string;
  size?: number;
  /** Durable under its name (or found already there). */
  done?: 1;
  aborted?: 1;
  /** [code, message]; the worker has already closed and removed the temp file. */
  error?: [string | undefined, string];
  /** A path just fsync'd (only when traced). */
  fsync?: string;
}

// Plain JavaScript evaluated in the worker (see BuiltinWorker). A worker serves many puts at once, each by its id.
// Messages are handled as they come (open, hash, write); fsyncs, renames and replies wait for setImmediate, which
// runs once the messages queued meanwhile are all handled: replies then leave as one message, and replies that
// let the main thread go on (hashes, acks) leave before the worker blocks in fsync, so a caller's beforeCommit runs
// while the fsync does, as it did when both ran on the event loop.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { dirname, join } = require('node:path');
const { root, tempDir, trace } = workerData;
// Shared by all the store's workers: bit i set = directory i exists and its entry in its parent is fsync'd.
const durable = new Int32Array(workerData.durableDirs);
const jobs = new Map();
let tempDirMade = false;
let replies = [];
let toSync = [];
let toCommit = [];
let scheduled = false;

const reply = (r) => { replies.push(r); };
const flush = () => {
  if (replies.length === 0) return;
  parentPort.postMessage(replies);
  replies = [];
};
const schedule = () => {
  if (scheduled) return;
  scheduled = true;
  setImmediate(drain);
};

const known = (i) => (Atomics.load(durable, i >> 5) & (1 << (i & 31))) !== 0;
const mark = (i) => { Atomics.or(durable, i >> 5, 1 << (i & 31)); };
const forget = (i) => { Atomics.and(durable, i >> 5, ~(1 << (i & 31))); };

function sync(fd, path) {
  fs.fsyncSync(fd);
  if (trace) reply({ fsync: path });
}

// fsync of a directory makes a rename or a new entry in it durable.
function syncDir(path) {
  const fd = fs.openSync(path, 'r');
  try {
    sync(fd, path);
  } finally {
    fs.closeSync(fd);
  }
}

function drop(job) {
  jobs.delete(job.id);
  if (job.fd >= 0) {
    try { fs.closeSync(job.fd); } catch {}
    job.fd = -1;
  }
  try { fs.unlinkSync(job.tmp); } catch {}
}

function fail(job, err) {
  drop(job);
  reply({ id: job.id, error: [err && err.code, err && err.message ? err.message : String(err)] });
}

function openTemp(path) {
  if (!tempDirMade) {
    fs.mkdirSync(tempDir, { recursive: true });
    tempDirMade = true;
  }
  try {
    return fs.openSync(path, 'wx');
  } catch (err) {
    // The temp directory was removed behind our back: make it again.
    if (err.code !== 'ENOENT') throw err;
    fs.mkdirSync(tempDir, { recursive: true });
    return fs.openSync(path, 'wx');
  }
}

// The two hash levels. A directory's entry is fsync'd in its parent the first time this process uses it, even when
// it already existed: another worker may have made it a moment ago and not have synced that yet, and a crash of an
// earlier run may have left it unsynced too. A rename into a directory that a crash can lose is no more durable.
function ensureDir(hash) {
  const leaf = parseInt(hash.slice(0, 4), 16);
  if (known(leaf)) return;
  const top = 65536 + parseInt(hash.slice(0, 2), 16);
  const topDir = join(root, hash.slice(0, 2));
  fs.mkdirSync(join(topDir, hash.slice(2, 4)), { recursive: true });
  if (!known(top)) {
    syncDir(root);
    mark(top);
  }
  syncDir(topDir);
  mark(leaf);
}

// Returns the directory whose fsync makes the new name durable, or null when the blob was already stored.
function commit(job) {
  const hash = job.hash;
  const target = join(root, hash.slice(0, 2), hash.slice(2, 4), hash);
  if (fs.statSync(target, { throwIfNoEntry: false })) {
    // Single-instance storage: same hash, same bytes.
    fs.unlinkSync(job.tmp);
    return null;
  }
  ensureDir(hash);
  try {
    fs.renameSync(job.tmp, target);
  } catch (err) {
    // Its directory was removed behind our back: make it again.
    if (err.code !== 'ENOENT') throw err;
    forget(parseInt(hash.slice(0, 4), 16));
    forget(65536 + parseInt(hash.slice(0, 2), 16));
    ensureDir(hash);
    fs.renameSync(job.tmp, target);
  }
  return dirname(target);
}

function finish(job) {
  jobs.delete(job.id);
  reply({ id: job.id, done: 1, hash: job.hash, size: job.size });
}

function drain() {
  scheduled = false;
  flush();
  const syncing = toSync;
  toSync = [];
  for (const job of syncing) {
    // Aborted meanwhile.
    if (jobs.get(job.id) !== job) continue;
    try {
      sync(job.fd, job.tmp);
      fs.closeSync(job.fd);
      job.fd = -1;
      job.synced = true;
      if (job.commit) toCommit.push(job);
    } catch (err) {
      fail(job, err);
    }
  }
  const committing = toCommit;
  toCommit = [];
  // Renamed blobs by directory: one fsync of a directory serves every rename into it.
  const renamed = new Map();
  for (const job of committing) {
    if (jobs.get(job.id) !== job) continue;
    try {
      const dir = commit(job);
      if (dir === null) finish(job);
      else renamed.set(dir, [...(renamed.get(dir) || []), job]);
    } catch (err) {
      fail(job, err);
    }
  }
  for (const [dir, done] of renamed) {
    try {
      syncDir(dir);
      for (const job of done) finish(job);
    } catch (err) {
      for (const job of done) fail(job, err);
    }
  }
  flush();
}

parentPort.on('message', (m) => {
  if (m.abort) {
    const job = jobs.get(m.id);
    if (job) drop(job);
    reply({ id: m.id, aborted: 1 });
    schedule();
    return;
  }
  let job = jobs.get(m.id);
  if (m.tmp !== undefined) {
    job = { id: m.id, tmp: m.tmp, fd: -1, sha: createHash('sha256'), size: 0, hash: '', synced: false, commit: false };
    jobs.set(m.id, job);
  }
  // Dropped after an error: the rest of its messages were already on their way.
  if (!job) return;
  try {
    if (m.tmp !== undefined) job.fd = openTemp(m.tmp);
    if (m.data) {
      const bytes = new Uint8Array(m.data);
      job.sha.update(bytes);
      for (let off = 0; off < bytes.length; ) off += fs.writeSync(job.fd, bytes, off, bytes.length - off);
      job.size += bytes.length;
    }
    if (m.ack) reply({ id: job.id, acked: job.size });
    if (m.end) {
      job.hash = job.sha.digest('hex');
      job.sha = null;
      if (!m.commit) reply({ id: job.id, hash: job.hash, size: job.size });
      toSync.push(job);
    }
    if (m.commit) {
      job.commit = true;
      if (job.synced) toCommit.push(job);
    }
  } catch (err) {
    fail(job, err);
  }
  schedule();
});
`;

type Stage = 'acked' | 'hashed' | 'done' | 'aborted';

interface WriteJob {
  id: number;
  tmp: string;
  /** The worker has been told of this put (and so may have a temp file for it). */
  begun: boolean;
  sent: number;
  acked: number;
  blob: StoredBlob | null;
  /** Set once the put can no longer succeed; the worker has forgotten it. */
  failure: Error | null;
  /** Its thread died: nobody else will remove the temp file. */
  lost: boolean;
  waiter: { stage: Stage; resolve(): void; reject(err: Error): void } | null;
}

class WriteWorker {
  /** Puts in flight here; their count is this worker's load. */
  readonly jobs = new Map<number, WriteJob>();
  private readonly thread: BuiltinWorker<WriteCommand, WriteReply[]>;

  constructor(workerData: object, onGone: (w: WriteWorker) => void, private readonly onFsync?: (path: string) => void) {
    this.thread = new BuiltinWorker('blob write', WORKER_SOURCE, {
      message: (replies) => this.onReplies(replies),
      gone: (err) => {
        onGone(this);
        for (const job of this.jobs.values()) {
          job.failure = err;
          job.lost = true;
          this.settle(job, err);
        }
        this.jobs.clear();
      },
    }, workerData);
  }

  begin(id: number, tmp: string): WriteJob {
    const job: WriteJob = { id, tmp, begun: false, sent: 0, acked: 0, blob: null, failure: null, lost: false, waiter: null };
    this.jobs.set(id, job);
    return job;
  }

  /** Posts the gathered chunks (moved, not copied a second time) with whatever else the worker is to do next. */
  send(job: WriteJob, chunks: Buffer[], bytes: number, flags: Pick<WriteCommand, 'ack' | 'end' | 'commit'>): void {
    if (job.failure) throw job.failure;
    const m: WriteCommand = { id: job.id, ...flags };
    if (!job.begun) {
      m.tmp = job.tmp;
      job.begun = true;
    }
    if (bytes === 0) {
      this.thread.post(m);
      return;
    }
    // Our own buffer of exactly this size, so its memory can be transferred; never the source's (often pooled) ones.
    const packed = Buffer.allocUnsafeSlow(bytes);
    let offset = 0;
    for (const c of chunks) {
      // TypedArray#set: Buffer#copy crosses into C++ per chunk, which costs more than copying a socket's small chunks.
      packed.set(c, offset);
      offset += c.length;
    }
    m.data = packed.buffer as ArrayBuffer;
    job.sent += bytes;
    this.thread.post(m, [m.data]);
  }

  commit(job: WriteJob): void {
    if (job.failure) throw job.failure;
    this.thread.post({ id: job.id, commit: 1 });
  }

  /** Waits for the worker to reach `stage` for this put; rejects when it failed there or the thread died. */
  until(job: WriteJob, stage: Stage): Promise<void> {
    if (job.failure) return Promise.reject(job.failure);
    if (stage === 'acked' && job.sent - job.acked < MAX_UNWRITTEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      // Referenced while awaited, so a process waiting only for this put stays alive.
      this.thread.hold();
      job.waiter = { stage, resolve, reject };
    });
  }

  /** Removes whatever the worker holds of a put that will not complete. */
  async abort(job: WriteJob): Promise<void> {
    if (job.begun && !job.failure) {
      this.thread.post({ id: job.id, abort: 1 });
      // A failure meanwhile means the worker dropped it anyway, or died: handled below.
      await this.until(job, 'aborted').catch(() => undefined);
    }
    if (job.lost) await unlink(job.tmp).catch(() => undefined);
    this.jobs.delete(job.id);
  }

  terminate(): Promise<number> {
    return this.thread.terminate();
  }

  private onReplies(replies: WriteReply[]): void {
    for (const r of replies) {
      if (r.fsync !== undefined) {
        this.onFsync?.(r.fsync);
        continue;
      }
      const job = this.jobs.get(r.id!);
      if (!job) continue;
      if (r.error) {
        this.jobs.delete(job.id);
        job.failure = Object.assign(new Error(r.error[1]), { code: r.error[0] });
        this.settle(job, job.failure);
      } else if (r.acked !== undefined) {
        job.acked = r.acked;
        if (job.waiter?.stage === 'acked' && job.sent - job.acked < MAX_UNWRITTEN) this.settle(job);
      } else if (r.aborted) {
        this.jobs.delete(job.id);
        if (job.waiter?.stage === 'aborted') this.settle(job);
      } else {
        job.blob = { hash: r.hash!, size: r.size! };
        if (r.done) this.jobs.delete(job.id);
        if (job.waiter?.stage === (r.done ? 'done' : 'hashed')) this.settle(job);
      }
    }
  }

  private settle(job: WriteJob, err?: Error): void {
    const waiter = job.waiter;
    if (!waiter) return;
    job.waiter = null;
    this.thread.release();
    if (err) waiter.reject(err);
    else waiter.resolve();
  }
}

export interface BlobWriteWorkersOptions {
  /** Most threads started; a new one only when every running one has a put in flight. */
  size: number;
  /** Called with each path a worker fsync'd, before the put that needed it resolves (durability tests, tracing). */
  onFsync?: (path: string) => void;
}

export class BlobWriteWorkers {
  private readonly workers: WriteWorker[] = [];
  private readonly workerData: object;
  private nextId = 0;
  /** Temp names are this plus a counter: unique enough with `wx`, and cheaper than a UUID per put. */
  private readonly tempPrefix = `${process.pid}-${randomUUID()}`;

  /** Blobs go to `<root>/<h0h1>/<h2h3>/<hash>`, through temp files in `tempDir` (on the same filesystem). */
  constructor(root: string, private readonly tempDir: string, private readonly options: BlobWriteWorkersOptions) {
    this.workerData = {
      root,
      tempDir,
      trace: options.onFsync !== undefined,
      // Outlives the threads: a replacement knows which directories are durable.
      durableDirs: new SharedArrayBuffer(Math.ceil(DIR_BITS / 32) * 4),
    };
  }

  /**
   * Streams the content to a worker, which hashes it into a temp file and fsyncs that; `beforeCommit` (the caller's
   * lease) runs meanwhile, since neither needs the other, and only once both are done does the worker rename the file
   * to its hash and fsync the directory. A put with no beforeCommit is told to commit along with its last bytes.
   */
  async put(stream: Readable, opts: BlobPutOptions): Promise<StoredBlob> {
    const worker = this.pick();
    const id = ++this.nextId;
    const job = worker.begin(id, join(this.tempDir, `${this.tempPrefix}-${id}.part`));
    try {
      let pending: Buffer[] = [];
      let bytes = 0;
      let size = 0;
      // Leaving the loop early (too big, a failed write) destroys the stream, as a pipeline would.
      for await (const data of stream as AsyncIterable<Buffer | string>) {
        const chunk = typeof data === 'string' ? Buffer.from(data) : data;
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) throw new BlobTooLargeError(opts.maxBytes);
        pending.push(chunk);
        bytes += chunk.length;
        if (bytes >= WRITE_BYTES) {
          worker.send(job, pending, bytes, { ack: 1 });
          pending = [];
          bytes = 0;
          await worker.until(job, 'acked');
        }
      }
      const { beforeCommit } = opts;
      worker.send(job, pending, bytes, beforeCommit ? { end: 1 } : { end: 1, commit: 1 });
      if (beforeCommit) {
        await worker.until(job, 'hashed');
        await beforeCommit(job.blob!);
        worker.commit(job);
      }
      await worker.until(job, 'done');
      return job.blob!;
    } catch (err) {
      await worker.abort(job);
      throw err;
    }
  }

  /** Stops the threads; puts in flight reject and their temp files are removed. A later put starts new ones. */
  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }

  private pick(): WriteWorker {
    let best: WriteWorker | undefined;
    for (const w of this.workers) if (!best || w.jobs.size < best.jobs.size) best = w;
    if (best && (best.jobs.size === 0 || this.workers.length >= this.options.size)) return best;
    const w = new WriteWorker(this.workerData, (gone) => this.drop(gone), this.options.onFsync);
    this.workers.push(w);
    return w;
  }

  private drop(gone: WriteWorker): void {
    const i = this.workers.indexOf(gone);
    if (i >= 0) this.workers.splice(i, 1);
  }
}
