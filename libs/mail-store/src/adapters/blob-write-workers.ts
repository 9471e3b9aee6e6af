/**
 * FsBlobStore.put done by worker threads. Written from the event loop, one blob cost ten thread-pool round trips
 * (open, writev, fsync, close, stat, mkdir, rename, open, fsync, close the directory), each with its FileHandle and
 * promise machinery and each wake-up preempting the main thread; here a worker does them all with plain blocking
 * calls. What is left to pay is the messages each way rather than their bytes (the content is transferred, not
 * copied): each one wakes a thread, which on a busy machine preempts whoever was running. So a blob of up to
 * ONE_SHOT_BYTES (most mail) is gathered whole, hashed here, leased (beforeCommit), and posted in one message that
 * the worker answers once, when the blob is durable under its name. A larger one streams in batches and hears back
 * twice: once hashed, once durable.
 */
import { createHash, randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobTooLargeError, type BlobPutOptions, type StoredBlob } from '../ports/blob-store';
import { copyChunks } from '../copy-chunks';
import { BuiltinWorker } from './builtin-worker';

/**
 * Blobs up to this size are gathered whole before anything is posted, then go in one message. 1 MB: most mail is well
 * under it (a 300 KB message with an attachment is typical, a 1 MB one rare), while what it costs stays bounded: 1 MB
 * held per put in flight (streaming held up to 3/4 of that anyway) and at most ~0.6 ms of sha256 on the event loop in
 * one go (0.17 ms for 300 KB, which the worker no longer spends). Exported for tests.
 */
export const ONE_SHOT_BYTES = 1024 * 1024;

/** Past ONE_SHOT_BYTES, chunks are gathered up to this many bytes per message to a worker (and per write there). */
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
  /** The content is bytes [at, at + length) of the shared memory (SharedSlots) the worker was started with. */
  at?: number;
  length?: number;
  /** The content's hash, computed by the main thread: the put came whole in this message, which ends and commits it. */
  hash?: string;
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
// let the main thread go on (hashes, acks) leave before the worker blocks in fsync, so the beforeCommit of a streamed
// put runs while its fsync does, as it did when both ran on the event loop. A put sent whole comes with its hash and
// its commit: nothing to hash, and one reply.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { dirname, join } = require('node:path');
const { root, tempDir, trace } = workerData;
const shared = workerData.shared ? new Uint8Array(workerData.shared) : null;
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

// Mail is private: the service's user (and its group, for backups) may read it, nobody else.
const FILE_MODE = 0o640;
const DIR_MODE = 0o750;

function openTemp(path) {
  if (!tempDirMade) {
    fs.mkdirSync(tempDir, { recursive: true, mode: DIR_MODE });
    tempDirMade = true;
  }
  try {
    return fs.openSync(path, 'wx', FILE_MODE);
  } catch (err) {
    // The temp directory was removed behind our back: make it again.
    if (err.code !== 'ENOENT') throw err;
    fs.mkdirSync(tempDir, { recursive: true, mode: DIR_MODE });
    return fs.openSync(path, 'wx', FILE_MODE);
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
  fs.mkdirSync(join(topDir, hash.slice(2, 4)), { recursive: true, mode: DIR_MODE });
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
    const sha = m.hash === undefined ? createHash('sha256') : null;
    job = { id: m.id, tmp: m.tmp, fd: -1, sha, size: 0, hash: m.hash || '', synced: false, commit: false };
    jobs.set(m.id, job);
  }
  // Dropped after an error: the rest of its messages were already on their way.
  if (!job) return;
  try {
    if (m.tmp !== undefined) job.fd = openTemp(m.tmp);
    const bytes = m.data ? new Uint8Array(m.data) : m.length !== undefined ? shared.subarray(m.at, m.at + m.length) : null;
    if (bytes) {
      if (job.sha) job.sha.update(bytes);
      for (let off = 0; off < bytes.length; ) off += fs.writeSync(job.fd, bytes, off, bytes.length - off);
      job.size += bytes.length;
    }
    if (m.ack) reply({ id: job.id, acked: job.size });
    if (m.end) {
      if (job.sha) job.hash = job.sha.digest('hex');
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

  constructor(
    workerData: object,
    onGone: (w: WriteWorker) => void,
    private readonly traffic: BlobWriteTraffic,
    private readonly onFsync?: (path: string) => void,
  ) {
    this.thread = new BuiltinWorker('blob write', WORKER_SOURCE, {
      message: (replies) => {
        traffic.replies += 1;
        this.onReplies(replies);
      },
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

  /** Posts the packed content (moved, not copied) with whatever else the worker is to do next. */
  send(job: WriteJob, packed: Buffer | null, flags: Pick<WriteCommand, 'ack' | 'end' | 'commit' | 'hash'>): void {
    if (job.failure) throw job.failure;
    const m: WriteCommand = { id: job.id, ...flags };
    if (!job.begun) {
      m.tmp = job.tmp;
      job.begun = true;
    }
    if (packed === null || packed.length === 0) {
      this.post(m);
      return;
    }
    m.data = packed.buffer as ArrayBuffer;
    job.sent += packed.length;
    this.post(m, [m.data]);
  }

  /** Posts a put whose content is in the shared memory (at, length): nothing is moved, the worker reads it there. */
  sendShared(job: WriteJob, at: number, length: number, flags: Pick<WriteCommand, 'end' | 'commit' | 'hash'>): void {
    if (job.failure) throw job.failure;
    const m: WriteCommand = { id: job.id, at, length, ...flags };
    if (!job.begun) {
      m.tmp = job.tmp;
      job.begun = true;
    }
    job.sent += length;
    this.post(m);
  }

  commit(job: WriteJob): void {
    if (job.failure) throw job.failure;
    this.post({ id: job.id, commit: 1 });
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
      this.post({ id: job.id, abort: 1 });
      // A failure meanwhile means the worker dropped it anyway, or died: handled below.
      await this.until(job, 'aborted').catch(() => undefined);
    }
    if (job.lost) await unlink(job.tmp).catch(() => undefined);
    this.jobs.delete(job.id);
  }

  terminate(): Promise<number> {
    return this.thread.terminate();
  }

  private post(m: WriteCommand, transfer?: ArrayBuffer[]): void {
    this.traffic.posts += 1;
    this.thread.post(m, transfer);
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

/** Our own buffer of exactly `bytes`, so its memory can be transferred; never the source's (often pooled) ones. */
function pack(chunks: Buffer[], bytes: number): Buffer {
  return copyChunks(Buffer.allocUnsafeSlow(bytes), chunks);
}

/** Messages between the event loop and the write threads since the store started: what the main thread pays for. */
export interface BlobWriteTraffic {
  /** Posted to a thread. */
  posts: number;
  /** Received from one (each a batch of replies). */
  replies: number;
}

export interface BlobWriteWorkersOptions {
  /** Most threads started; a new one only when every running one has a put in flight. */
  size: number;
  /** Called with each path a worker fsync'd, before the put that needed it resolves (durability tests, tracing). */
  onFsync?: (path: string) => void;
  /**
   * Memory the threads can read content from (SharedSlots.memory): a whole blob put as a view into it is written from
   * there, not copied across.
   */
  shared?: SharedArrayBuffer;
}

export class BlobWriteWorkers {
  private readonly workers: WriteWorker[] = [];
  private readonly workerData: object;
  private nextId = 0;
  /** Temp names are this plus a counter: unique enough with `wx`, and cheaper than a UUID per put. */
  private readonly tempPrefix = `${process.pid}-${randomUUID()}`;
  readonly traffic: BlobWriteTraffic = { posts: 0, replies: 0 };

  /** Blobs go to `<root>/<h0h1>/<h2h3>/<hash>`, through temp files in `tempDir` (on the same filesystem). */
  constructor(root: string, private readonly tempDir: string, private readonly options: BlobWriteWorkersOptions) {
    this.workerData = {
      root,
      tempDir,
      trace: options.onFsync !== undefined,
      // Outlives the threads: a replacement knows which directories are durable.
      durableDirs: new SharedArrayBuffer(Math.ceil(DIR_BITS / 32) * 4),
      shared: options.shared,
    };
  }

  /**
   * A blob held whole: a Buffer, or a stream. A Buffer must not change until the put settles; one that is a view into
   * the `shared` memory is read there by the worker (which has stopped reading it when the put settles, or is dead).
   */
  async put(content: Readable | Buffer, opts: BlobPutOptions): Promise<StoredBlob> {
    if (!Buffer.isBuffer(content)) return this.putStream(content, opts);
    if (opts.maxBytes !== undefined && content.length > opts.maxBytes) throw new BlobTooLargeError(opts.maxBytes);
    if (content.length > ONE_SHOT_BYTES) return this.putStream(Readable.from([content]), opts);
    const worker = this.pick();
    const id = ++this.nextId;
    const job = worker.begin(id, join(this.tempDir, `${this.tempPrefix}-${id}.part`));
    try {
      // As a whole streamed blob: hashed here, leased, then posted with the word to commit.
      const blob = { hash: createHash('sha256').update(content).digest('hex'), size: content.length };
      await opts.beforeCommit?.(blob);
      const flags = { hash: blob.hash, end: 1, commit: 1 } as const;
      if (this.options.shared !== undefined && content.buffer === this.options.shared) {
        worker.sendShared(job, content.byteOffset, content.length, flags);
      } else {
        worker.send(job, pack([content], content.length), flags);
      }
      await worker.until(job, 'done');
      return job.blob!;
    } catch (err) {
      await worker.abort(job);
      throw err;
    }
  }

  /**
   * A blob of up to ONE_SHOT_BYTES is gathered whole and hashed here; `beforeCommit` (the caller's lease) runs, and only
   * then is the content posted, with its hash and the word to commit, so the file cannot get its name before the lease
   * is done: the worker writes, fsyncs, renames, fsyncs the directory and answers once. The lease no longer overlaps
   * the fsync, but it is one group-committed statement that does not wait for the WAL: a millisecond or two of
   * latency, for two posts and a reply fewer per put.
   *
   * A larger one streams to a worker, which hashes it into a temp file and fsyncs that; `beforeCommit` runs meanwhile,
   * since neither needs the other, and only once both are done does the worker rename the file to its hash and fsync
   * the directory. A put with no beforeCommit is told to commit along with its last bytes.
   */
  private async putStream(stream: Readable, opts: BlobPutOptions): Promise<StoredBlob> {
    const worker = this.pick();
    const id = ++this.nextId;
    const job = worker.begin(id, join(this.tempDir, `${this.tempPrefix}-${id}.part`));
    try {
      const { beforeCommit } = opts;
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
        // Streaming starts once the blob is too big to go whole; its first batch is all gathered so far.
        if (bytes >= (job.begun ? WRITE_BYTES : ONE_SHOT_BYTES + 1)) {
          worker.send(job, pack(pending, bytes), { ack: 1 });
          pending = [];
          bytes = 0;
          await worker.until(job, 'acked');
        }
      }
      const packed = pack(pending, bytes);
      pending = [];
      if (!job.begun && beforeCommit) {
        const blob = { hash: createHash('sha256').update(packed).digest('hex'), size };
        await beforeCommit(blob);
        worker.send(job, packed, { hash: blob.hash, end: 1, commit: 1 });
      } else if (beforeCommit) {
        worker.send(job, packed, { end: 1 });
        await worker.until(job, 'hashed');
        await beforeCommit(job.blob!);
        worker.commit(job);
      } else {
        // Nothing to wait for between the hash and the name: the worker hashes (off this thread) and commits.
        worker.send(job, packed, { end: 1, commit: 1 });
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
    const w = new WriteWorker(this.workerData, (gone) => this.drop(gone), this.traffic, this.options.onFsync);
    this.workers.push(w);
    return w;
  }

  private drop(gone: WriteWorker): void {
    const i = this.workers.indexOf(gone);
    if (i >= 0) this.workers.splice(i, 1);
  }
}
