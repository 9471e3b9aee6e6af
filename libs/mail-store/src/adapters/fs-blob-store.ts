/** Blobs as files under `<root>/<h0h1>/<h2h3>/<hash>`, written durably: temp file, fsync, rename, fsync directory. */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError, BlobTooLargeError, blobPath, clampRange,
  type BlobPutOptions, type BlobRange, type BlobStore, type StoredBlob,
} from '../ports/blob-store';
import { FileReadWorkers } from './file-read-workers';

const TEMP_DIR = 'tmp';

/** Chunks are gathered up to this many bytes per write: every system call counts when mail pours in. */
const WRITE_BYTES = 256 * 1024;

export interface FsBlobStoreOptions {
  /** Worker threads for `read` (FETCH of many messages); default 2. */
  readWorkers?: number;
}

export class FsBlobStore implements BlobStore {
  /** Directories made (or found) by this process; at most 65,536 + 257 names. Blobs are deleted, directories never. */
  private readonly dirs = new Set<string>();
  private readonly readers: FileReadWorkers;

  constructor(private readonly root: string, options: FsBlobStoreOptions = {}) {
    this.readers = new FileReadWorkers(Math.max(1, options.readWorkers ?? 2));
  }

  async put(stream: Readable, opts: BlobPutOptions = {}): Promise<StoredBlob> {
    // The temp directory lives under the root so the final rename never crosses filesystems.
    const tempDir = join(this.root, TEMP_DIR);
    if (!this.dirs.has(tempDir)) {
      await mkdir(tempDir, { recursive: true });
      this.dirs.add(tempDir);
    }
    const tempPath = join(tempDir, `${randomUUID()}.part`);
    try {
      const { hash, size } = await this.writeTemp(stream, tempPath, opts.maxBytes, opts.beforeCommit);
      const target = this.pathOf(hash);
      if (await exists(target)) {
        // Single-instance storage: same hash, same bytes.
        await unlink(tempPath);
      } else {
        await this.ensureDir(dirname(target));
        await rename(tempPath, target).catch(async (err: NodeJS.ErrnoException) => {
          // Its directory was removed behind our back: make it again.
          if (err.code !== 'ENOENT') throw err;
          this.dirs.delete(dirname(target));
          await this.ensureDir(dirname(target));
          await rename(tempPath, target);
        });
        await fsyncPath(dirname(target));
      }
      return { hash, size };
    } catch (err) {
      await unlink(tempPath).catch(() => undefined);
      throw err;
    }
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

  /** Stops the read workers (they never keep the process alive while idle). */
  async close(): Promise<void> {
    await this.readers.close();
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

  /**
   * Writes, hashes and fsyncs the temp file; `beforeCommit` (the caller's lease) runs while the fsync does, since
   * neither needs the other: both are done before the file gets its name.
   */
  private async writeTemp(
    stream: Readable, tempPath: string, maxBytes?: number, beforeCommit?: (blob: StoredBlob) => Promise<void>,
  ): Promise<StoredBlob> {
    const sha = createHash('sha256');
    let size = 0;
    const handle = await open(tempPath, 'wx');
    try {
      let pending: Buffer[] = [];
      let bytes = 0;
      // Leaving the loop early (too big, a failed write) destroys the stream, as a pipeline would.
      for await (const data of stream as AsyncIterable<Buffer | string>) {
        const chunk = typeof data === 'string' ? Buffer.from(data) : data;
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLargeError(maxBytes);
        sha.update(chunk);
        pending.push(chunk);
        bytes += chunk.length;
        if (bytes >= WRITE_BYTES) {
          await handle.writev(pending);
          pending = [];
          bytes = 0;
        }
      }
      if (pending.length > 0) await handle.writev(pending);
      const blob = { hash: sha.digest('hex'), size };
      await Promise.all([handle.sync(), beforeCommit?.(blob)]);
      return blob;
    } finally {
      await handle.close();
    }
  }

  /** Creates the two hash levels; a newly made directory's entry is fsync'd in its parent. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return;
    const first = await mkdir(dir, { recursive: true });
    if (first !== undefined) {
      let d = dir;
      while (d.length >= first.length) {
        const parent = dirname(d);
        await fsyncPath(parent);
        d = parent;
      }
    }
    this.dirs.add(dir);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
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
