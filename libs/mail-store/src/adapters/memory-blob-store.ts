/** Blobs in process memory, for protocol unit tests. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError, BlobTooLargeError, assertBlobHash, clampRange,
  type BlobPutOptions, type BlobRange, type BlobStore, type StoredBlob,
} from '../ports/blob-store';

export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Buffer>();

  async put(content: Readable | Buffer, opts: BlobPutOptions = {}): Promise<StoredBlob> {
    const stream = Buffer.isBuffer(content) ? Readable.from([content]) : content;
    const sha = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (opts.maxBytes !== undefined && size > opts.maxBytes) {
        stream.destroy();
        throw new BlobTooLargeError(opts.maxBytes);
      }
      sha.update(buf);
      chunks.push(buf);
    }
    const blob = { hash: sha.digest('hex'), size };
    await opts.beforeCommit?.(blob);
    if (!this.blobs.has(blob.hash)) this.blobs.set(blob.hash, Buffer.concat(chunks));
    return blob;
  }

  async get(hash: string, range?: BlobRange): Promise<Readable> {
    const content = this.content(hash);
    if (!range) return Readable.from([content]);
    const clamped = clampRange(range, content.length);
    return Readable.from(clamped ? [content.subarray(clamped.start, clamped.end + 1)] : []);
  }

  async read(hash: string, range?: BlobRange): Promise<Buffer> {
    const content = this.content(hash);
    if (!range) return Buffer.from(content);
    const clamped = clampRange(range, content.length);
    return clamped ? Buffer.from(content.subarray(clamped.start, clamped.end + 1)) : Buffer.alloc(0);
  }

  async stat(hash: string): Promise<StoredBlob | null> {
    assertBlobHash(hash);
    const content = this.blobs.get(hash);
    return content ? { hash, size: content.length } : null;
  }

  async delete(hash: string): Promise<void> {
    this.blobs.delete(hash);
  }

  /** Hashes held, for tests. */
  hashes(): string[] {
    return [...this.blobs.keys()];
  }

  private content(hash: string): Buffer {
    assertBlobHash(hash);
    const content = this.blobs.get(hash);
    if (!content) throw new BlobNotFoundError(hash);
    return content;
  }
}
