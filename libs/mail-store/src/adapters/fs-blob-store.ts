/** Blobs as files under `<root>/<h0h1>/<h2h3>/<hash>`, written durably: temp file, fsync, rename, fsync directory. */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobNotFoundError, BlobTooLargeError, blobPath, clampRange,
  type BlobPutOptions, type BlobRange, type BlobStore, type StoredBlob,
} from '../ports/blob-store';

const TEMP_DIR = 'tmp';

export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  async put(stream: Readable, opts: BlobPutOptions = {}): Promise<StoredBlob> {
    // The temp directory lives under the root so the final rename never crosses filesystems.
    const tempDir = join(this.root, TEMP_DIR);
    await mkdir(tempDir, { recursive: true });
    const tempPath = join(tempDir, `${randomUUID()}.part`);
    try {
      const { hash, size } = await this.writeTemp(stream, tempPath, opts.maxBytes);
      await opts.beforeCommit?.({ hash, size });
      const target = this.pathOf(hash);
      if (await exists(target)) {
        // Single-instance storage: same hash, same bytes.
        await unlink(tempPath);
      } else {
        await this.ensureDir(dirname(target));
        await rename(tempPath, target);
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

  private async writeTemp(stream: Readable, tempPath: string, maxBytes?: number): Promise<StoredBlob> {
    const sha = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) return done(new BlobTooLargeError(maxBytes));
        sha.update(chunk);
        done(null, chunk);
      },
    });
    const handle = await open(tempPath, 'wx');
    try {
      await pipeline(stream, meter, async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) await handle.write(chunk);
      });
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { hash: sha.digest('hex'), size };
  }

  /** Creates the two hash levels; a newly made directory's entry is fsync'd in its parent. */
  private async ensureDir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true });
    if (first === undefined) return;
    let d = dir;
    while (d.length >= first.length) {
      const parent = dirname(d);
      await fsyncPath(parent);
      d = parent;
    }
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
