/** Blobs as files under `<root>/<h0h1>/<h2h3>/<hash>`, written durably: temp file, fsync, rename, fsync directory. */
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError, blobPath, clampRange,
  type BlobPutOptions, type BlobRange, type BlobStore, type StoredBlob,
} from '../ports/blob-store';
import { BlobWriteWorkers } from './blob-write-workers';
import { FileReadWorkers } from './file-read-workers';

const TEMP_DIR = 'tmp';

export interface FsBlobStoreOptions {
  /** Worker threads for `read` (FETCH of many messages); default 2. */
  readWorkers?: number;
  /**
   * Worker threads that write, fsync and name the blobs of `put`; default 4. Each blocks in its fsyncs, so this is
   * how many are in flight at once (the journal commits concurrent ones together): 4, as many as libuv's thread pool
   * ran when the event loop did them. Threads start as puts overlap, so a quiet store runs one.
   */
  writeWorkers?: number;
  /** Called with each path `put` fsyncs, before that put resolves: for durability tests and tracing. */
  onFsync?: (path: string) => void;
  /** SharedSlots.memory: a Buffer put that is a view into it is written by the threads from there, not copied. */
  shared?: SharedArrayBuffer;
}

export class FsBlobStore implements BlobStore {
  private readonly readers: FileReadWorkers;
  private readonly writers: BlobWriteWorkers;

  constructor(private readonly root: string, options: FsBlobStoreOptions = {}) {
    this.readers = new FileReadWorkers(Math.max(1, options.readWorkers ?? 2));
    // The temp directory lives under the root so the final rename never crosses filesystems.
    this.writers = new BlobWriteWorkers(root, join(root, TEMP_DIR), {
      size: Math.max(1, options.writeWorkers ?? 4),
      onFsync: options.onFsync,
      shared: options.shared,
    });
  }

  /**
   * Durable before it resolves: content in a temp file under `<root>/tmp`, fsync'd, renamed to its hash, directory
   * fsync'd (blob-write-workers.ts). The caller's `beforeCommit` completes before the file gets its name.
   */
  put(content: Readable | Buffer, opts: BlobPutOptions = {}): Promise<StoredBlob> {
    return this.writers.put(content, opts);
  }

  async get(hash: string, range?: BlobRange): Promise<Readable> {
    const path = this.pathOf(hash);
    // Open first so a missing blob rejects here rather than as a stream error later.
    const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new BlobNotFoundError(hash) : err;
    });
    if (!range) return handle.createReadStream();
    const { size } = await handle.stat();
    const clamped = clampRange(range, size);
    if (!clamped) {
      await handle.close();
      return Readable.from([]);
    }
    return handle.createReadStream({ start: clamped.start, end: clamped.end });
  }

  async read(hash: string, range?: BlobRange): Promise<Buffer> {
    const path = this.pathOf(hash);
    const start = Math.max(0, range?.start ?? 0);
    const length = range ? Math.max(0, range.end - start + 1) : -1;
    return this.readers.read(path, start, length).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new BlobNotFoundError(hash) : err;
    });
  }

  /** Stops the read and write workers (they never keep the process alive while idle); puts in flight reject. */
  async close(): Promise<void> {
    await Promise.all([this.readers.close(), this.writers.close()]);
  }

  async stat(hash: string): Promise<StoredBlob | null> {
    try {
      const s = await stat(this.pathOf(hash));
      return { hash, size: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(hash: string): Promise<void> {
    const path = this.pathOf(hash);
    try {
      await unlink(path);
      await fsyncPath(dirname(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Temp files a crash left behind; an operator job may delete those older than a day. */
  async listTempFiles(): Promise<string[]> {
    return readdir(join(this.root, TEMP_DIR)).catch(() => []);
  }

  private pathOf(hash: string): string {
    return join(this.root, blobPath(hash));
  }
}

/** fsync of a directory makes a rename or unlink in it durable. */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
