/**
 * Whole-file and ranged reads done by worker threads in batches. A FETCH of a large mailbox reads thousands of small
 * files; read one by one on the event loop each costs three thread-pool round trips (open, read, close), which add up
 * to more main-thread time than everything else the FETCH does. Here every read queued in one tick goes to a worker
 * as one message, is read there with plain blocking calls, and comes back as one transferred buffer.
 */
import { BuiltinWorker } from './builtin-worker';

/** Files opened at once by one worker, and reads per message to it. */
const MAX_BATCH = 64;

// Plain JavaScript evaluated in the worker (no TypeScript loader there). Messages are kept compact, one string and
// one typed array each way, because serialising an object per file costs more than reading the file.
// In:  { id, paths: 'p1\0p2…' (NUL never occurs in a path), ranges: Float64Array [start, length (-1: to the end)]… }
// Out: { id, slots: Float64Array [offset, length]…, errors: [[index, code, message]…] | null, data: ArrayBuffer }
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const SMALL = ${1024 * 1024};
parentPort.on('message', ({ id, paths: joined, ranges }) => {
  const paths = joined.split('\\0');
  const n = paths.length;
  const fds = new Array(n).fill(-1);
  const lengths = new Float64Array(n);
  let errors = null;
  const fail = (i, err) => { (errors ??= []).push([i, err.code, err.message]); };
  let total = 0;
  for (let i = 0; i < n; i++) {
    const start = ranges[2 * i];
    let length = ranges[2 * i + 1];
    try {
      fds[i] = fs.openSync(paths[i], 'r');
      if (length < 0 || length > SMALL) {
        const rest = Math.max(0, fs.fstatSync(fds[i]).size - start);
        length = length < 0 ? rest : Math.min(length, rest);
      }
    } catch (err) {
      fail(i, err);
      if (fds[i] >= 0) try { fs.closeSync(fds[i]); } catch {}
      fds[i] = -1;
      length = 0;
    }
    lengths[i] = length;
    total += length;
  }
  const data = new ArrayBuffer(total);
  const view = new Uint8Array(data);
  const slots = new Float64Array(2 * n);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    let filled = 0;
    if (fds[i] >= 0) {
      try {
        while (filled < lengths[i]) {
          const got = fs.readSync(fds[i], view, offset + filled, lengths[i] - filled, ranges[2 * i] + filled);
          if (got === 0) break;
          filled += got;
        }
      } catch (err) {
        fail(i, err);
      }
      try { fs.closeSync(fds[i]); } catch {}
    }
    slots[2 * i] = offset;
    slots[2 * i + 1] = filled;
    offset += lengths[i];
  }
  parentPort.postMessage({ id, slots, errors, data }, [data]);
});
`;

interface ReadRequest {
  path: string;
  start: number;
  /** -1: to the end of the file. */
  length: number;
  resolve(data: Buffer): void;
  reject(err: Error): void;
}

interface BatchResult {
  id: number;
  slots: Float64Array;
  errors: Array<[number, string | undefined, string]> | null;
  data: ArrayBuffer;
}

class ReadWorker {
  private readonly thread: BuiltinWorker<unknown, BatchResult>;
  private batch: ReadRequest[] | null = null;
  private nextId = 0;

  constructor(private readonly onIdle: (w: ReadWorker) => void, onGone: (w: ReadWorker) => void) {
    this.thread = new BuiltinWorker('file read', WORKER_SOURCE, {
      message: (m) => this.onResult(m),
      gone: (err) => {
        onGone(this);
        const batch = this.batch;
        this.batch = null;
        for (const r of batch ?? []) r.reject(err);
      },
    });
  }

  get busy(): boolean {
    return this.batch !== null;
  }

  send(batch: ReadRequest[]): void {
    this.batch = batch;
    // Referenced while it works, so a process waiting only for these reads stays alive.
    this.thread.hold();
    const ranges = new Float64Array(2 * batch.length);
    batch.forEach((r, i) => {
      ranges[2 * i] = r.start;
      ranges[2 * i + 1] = r.length;
    });
    this.thread.post({ id: ++this.nextId, paths: batch.map((r) => r.path).join('\0'), ranges });
  }

  terminate(): Promise<number> {
    return this.thread.terminate();
  }

  private onResult(m: BatchResult): void {
    const batch = this.batch ?? [];
    this.batch = null;
    this.thread.release();
    const failed = new Map((m.errors ?? []).map(([i, code, message]) => [i, Object.assign(new Error(message), { code })]));
    batch.forEach((r, i) => {
      const err = failed.get(i);
      if (err) r.reject(err);
      else r.resolve(Buffer.from(m.data, m.slots[2 * i], m.slots[2 * i + 1]));
    });
    this.onIdle(this);
  }
}

export class FileReadWorkers {
  private readonly queue: ReadRequest[] = [];
  private readonly workers: ReadWorker[] = [];
  private scheduled = false;

  /** `size` workers, started on first use. */
  constructor(private readonly size: number) {}

  /** Bytes [start, start + length) of a file, fewer at its end; length -1 reads to the end. Rejects with the fs error. */
  read(path: string, start: number, length: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ path, start, length, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Reads asked for in the same tick travel together.
        queueMicrotask(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      while (this.workers.length < this.size) this.workers.push(new ReadWorker(() => this.pump(), (gone) => this.drop(gone)));
      const idle = this.workers.filter((w) => !w.busy);
      if (idle.length === 0) return;
      // Shared among the idle workers, so two workers read one burst in parallel.
      const share = Math.min(MAX_BATCH, Math.ceil(this.queue.length / idle.length));
      idle[0].send(this.queue.splice(0, share));
    }
  }

  private drop(gone: ReadWorker): void {
    const i = this.workers.indexOf(gone);
    if (i >= 0) this.workers.splice(i, 1);
  }
}
