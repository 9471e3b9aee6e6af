/** Behaviour every BlobStore adapter must show; run by the fs, s3 and memory specs. */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, BlobTooLargeError, type BlobStore } from '../src/ports/blob-store';

export interface BlobStoreHarness {
  store: BlobStore;
  /** Every stored object/file path or key, temp ones included, relative to the store's root. */
  listAll(): Promise<string[]>;
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Streams `content` in small chunks, like a socket would. */
export function chunked(content: Buffer, chunkSize = 1000): Readable {
  async function* gen() {
    for (let i = 0; i < content.length; i += chunkSize) yield content.subarray(i, i + chunkSize);
  }
  return Readable.from(gen());
}

/** Yields half of `content`, then fails: a client that dropped mid-DATA. */
export function failingHalfway(content: Buffer): Readable {
  async function* gen() {
    yield content.subarray(0, content.length >> 1);
    await new Promise((r) => setTimeout(r, 5));
    throw new Error('connection reset by peer');
  }
  return Readable.from(gen());
}

export function describeBlobStore(name: string, setup: () => Promise<BlobStoreHarness>): void {
  describe(`${name}: BlobStore behaviour`, () => {
    let h: BlobStoreHarness;
    beforeAll(async () => {
      h = await setup();
    });

    it('hashes while writing and stores identical content once', async () => {
      const content = randomBytes(50_000);
      const first = await h.store.put(chunked(content));
      const second = await h.store.put(chunked(content, 333));
      expect(first).toEqual({ hash: sha256(content), size: content.length });
      expect(second).toEqual(first);
      const stored = (await h.listAll()).filter((p) => p.endsWith(first.hash));
      expect(stored).toEqual([`${first.hash.slice(0, 2)}/${first.hash.slice(2, 4)}/${first.hash}`]);
      expect(await readAll(await h.store.get(first.hash))).toEqual(content);
      expect(await h.store.stat(first.hash)).toEqual({ hash: first.hash, size: content.length });
    });

    it('reads byte ranges, both ends inclusive and clamped', async () => {
      const content = Buffer.from('0123456789abcdefghij');
      const { hash } = await h.store.put(Readable.from([content]));
      expect((await readAll(await h.store.get(hash, { start: 0, end: 0 }))).toString()).toBe('0');
      expect((await readAll(await h.store.get(hash, { start: 5, end: 9 }))).toString()).toBe('56789');
      expect((await readAll(await h.store.get(hash, { start: 15, end: 1000 }))).toString()).toBe('fghij');
      expect((await readAll(await h.store.get(hash, { start: 25, end: 30 }))).length).toBe(0);
    });

    it('reads whole blobs and ranges into one buffer, as the streams give them', async () => {
      const content = randomBytes(3 * 1024 * 1024 + 17);
      const { hash } = await h.store.put(chunked(content, 65_536));
      expect((await h.store.read(hash)).equals(content)).toBe(true);
      for (const [start, end] of [[0, 0], [5, 9], [1000, 1024 * 1024 + 5], [content.length - 4, content.length + 1000], [0, Number.MAX_SAFE_INTEGER]]) {
        const expected = content.subarray(start, end + 1);
        expect((await h.store.read(hash, { start, end })).equals(expected)).toBe(true);
        expect((await readAll(await h.store.get(hash, { start, end }))).equals(expected)).toBe(true);
      }
      expect((await h.store.read(hash, { start: content.length + 5, end: content.length + 10 })).length).toBe(0);
      const missing = sha256(Buffer.from('never stored'));
      await expect(h.store.read(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(h.store.read(missing, { start: 0, end: 10 })).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(h.store.read('../../etc/passwd', { start: 0, end: 10 })).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('leaves exactly one object and no temp objects after 20 concurrent puts of the same content', async () => {
      const content = randomBytes(200_000);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => h.store.put(chunked(content, 4096 + i))));
      const hash = sha256(content);
      expect(new Set(results.map((r) => r.hash))).toEqual(new Set([hash]));
      const all = await h.listAll();
      expect(all.filter((p) => p.endsWith(hash))).toHaveLength(1);
      expect(all.filter((p) => p.startsWith('tmp/'))).toEqual([]);
      expect(await readAll(await h.store.get(hash))).toEqual(content);
    });

    it('leaves nothing behind when the input stream fails halfway', async () => {
      const content = randomBytes(100_000);
      const before = await h.listAll();
      await expect(h.store.put(failingHalfway(content))).rejects.toThrow('connection reset by peer');
      expect(await h.store.stat(sha256(content))).toBeNull();
      expect(await h.listAll()).toEqual(before);
    });

    it('stops at maxBytes with BlobTooLargeError and leaves nothing behind', async () => {
      const content = randomBytes(30_000);
      const before = await h.listAll();
      await expect(h.store.put(chunked(content), { maxBytes: 10_000 })).rejects.toBeInstanceOf(BlobTooLargeError);
      expect(await h.listAll()).toEqual(before);
      const exact = await h.store.put(chunked(content), { maxBytes: 30_000 });
      expect(exact.size).toBe(30_000);
    });

    it('reports missing blobs and deletes idempotently', async () => {
      const missing = sha256(Buffer.from('never stored'));
      await expect(h.store.get(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await h.store.stat(missing)).toBeNull();
      await expect(h.store.get('../../etc/passwd')).rejects.toBeInstanceOf(BlobNotFoundError);
      const { hash } = await h.store.put(Readable.from([Buffer.from('short-lived')]));
      await h.store.delete(hash);
      await h.store.delete(hash);
      expect(await h.store.stat(hash)).toBeNull();
      expect((await h.listAll()).filter((p) => p.endsWith(hash))).toEqual([]);
    });

    it('stores content handed over whole, as a Buffer, as it stores the same bytes streamed', async () => {
      const content = randomBytes(70_000);
      const blob = await h.store.put(content, { beforeCommit: async (b) => expect(b).toEqual({ hash: sha256(content), size: 70_000 }) });
      expect(blob).toEqual({ hash: sha256(content), size: content.length });
      expect(await h.store.put(chunked(content))).toEqual(blob);
      expect(await readAll(await h.store.get(blob.hash))).toEqual(content);
      expect((await h.listAll()).filter((p) => p.endsWith(blob.hash))).toHaveLength(1);
      const before = await h.listAll();
      await expect(h.store.put(randomBytes(20_000), { maxBytes: 19_999 })).rejects.toBeInstanceOf(BlobTooLargeError);
      expect(await h.listAll()).toEqual(before);
      expect((await h.store.put(Buffer.alloc(0))).hash).toBe(sha256(Buffer.alloc(0)));
    });

    it('stores an empty blob', async () => {
      const { hash, size } = await h.store.put(Readable.from([]));
      expect(hash).toBe(sha256(Buffer.alloc(0)));
      expect(size).toBe(0);
      expect((await readAll(await h.store.get(hash))).length).toBe(0);
    });
  });
}
