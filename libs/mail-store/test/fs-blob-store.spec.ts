import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ONE_SHOT_BYTES, type BlobWriteTraffic } from '../src/adapters/blob-write-workers';
import { FsBlobStore } from '../src/adapters/fs-blob-store';
import { MemoryBlobStore } from '../src/adapters/memory-blob-store';
import { BlobNotFoundError, blobPath } from '../src/ports/blob-store';
import { SharedSlots } from '../src/shared-slots';
import { chunked, describeBlobStore, sha256 } from './blob-store-suite';

const roots: string[] = [];

async function walk(dir: string, root = dir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full, root)));
    else out.push(relative(root, full));
  }
  return out.sort();
}

async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'dizi-blobs-'));
  roots.push(root);
  return root;
}

afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

describeBlobStore('FsBlobStore', async () => {
  const root = await freshRoot();
  return { store: new FsBlobStore(root), listAll: () => walk(root) };
});

describeBlobStore('MemoryBlobStore', async () => {
  const store = new MemoryBlobStore();
  return { store, listAll: async () => store.hashes().map(blobPath).sort() };
});

describe('FsBlobStore durability', () => {
  it('fsyncs the file and the directories it creates before the put resolves', async () => {
    const root = await freshRoot();
    // The fsyncs happen in the write workers, out of a spy's reach: they report each one (onFsync) instead.
    const synced: string[] = [];
    const store = new FsBlobStore(root, { onFsync: (path) => synced.push(path) });
    try {
      const content = randomBytes(10_000);
      const { hash } = await store.put(chunked(content));
      const leaf = join(root, hash.slice(0, 2), hash.slice(2, 4));
      // temp file first, then root + <h0h1> (hold the new directories) and <h2h3> (holds the rename)
      expect(synced).toHaveLength(4);
      expect(relative(root, synced[0])).toMatch(/^tmp\/[^/]+\.part$/);
      expect(synced.slice(1, 3).sort()).toEqual([root, join(root, hash.slice(0, 2))].sort());
      expect(synced[3]).toBe(leaf);
      const file = await stat(join(leaf, hash));
      expect(file.size).toBe(10_000);
      expect(hash).toBe(sha256(content));
      synced.length = 0;
      await store.put(chunked(content));
      // A duplicate is still written and synced to its temp file (the hash is only known at the end), then dropped.
      expect(synced).toHaveLength(1);
      expect(relative(root, synced[0])).toMatch(/^tmp\/[^/]+\.part$/);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      // A second blob in a known <h0h1> but a new <h2h3> directory: the file, <h0h1>, <h2h3>; never the root again.
      synced.length = 0;
      let other: Buffer;
      do other = randomBytes(100);
      while (sha256(other).slice(0, 2) !== hash.slice(0, 2) || sha256(other).slice(2, 4) === hash.slice(2, 4));
      const second = await store.put(Readable.from([other]));
      expect(synced.slice(1)).toEqual([join(root, hash.slice(0, 2)), join(root, second.hash.slice(0, 2), second.hash.slice(2, 4))]);
    } finally {
      await store.close();
    }
  });

  // Both ways a put goes: whole in one message, and streamed in batches.
  it.each([20_000, ONE_SHOT_BYTES + 300_000])('names the file only after beforeCommit is done, and leaves nothing when it fails (%i bytes)', async (length) => {
    const root = await freshRoot();
    const store = new FsBlobStore(root);
    try {
      // A running thread first: one still starting would name the file late even if it were told too early.
      const warm = await store.put(Readable.from([Buffer.from('warm')]));
      const content = randomBytes(length);
      const target = join(root, blobPath(sha256(content)));
      let seen: unknown = null;
      const blob = await store.put(chunked(content), {
        beforeCommit: async (b) => {
          await new Promise((r) => setTimeout(r, 20));
          seen = await stat(target).then(() => 'named too early', (err: NodeJS.ErrnoException) => err.code);
          expect(b).toEqual({ hash: sha256(content), size: content.length });
        },
      });
      expect(seen).toBe('ENOENT');
      expect((await stat(target)).size).toBe(blob.size);

      const refused = randomBytes(length);
      await expect(store.put(chunked(refused), { beforeCommit: async () => { throw new Error('lease refused'); } }))
        .rejects.toThrow('lease refused');
      expect(await store.stat(sha256(refused))).toBeNull();
      expect(await walk(root)).toEqual([blobPath(blob.hash), blobPath(warm.hash)].sort());
    } finally {
      await store.close();
    }
  });
});

/** Messages between the event loop and a store's write threads, reached past `private`. */
function traffic(store: FsBlobStore): BlobWriteTraffic {
  return (store as unknown as { writers: { traffic: BlobWriteTraffic } }).writers.traffic;
}

/** Write threads of a store, reached past `private` to kill one as a crash would. */
function writeThreads(store: FsBlobStore): Array<{ jobs: Map<number, unknown>; terminate(): Promise<number> }> {
  return (store as unknown as { writers: { workers: Array<{ jobs: Map<number, unknown>; terminate(): Promise<number> }> } }).writers.workers;
}

/** A stream that yields `first`, then waits until `release` is called before yielding `rest`. */
function heldStream(first: Buffer, rest: Buffer): { stream: Readable; release(): void } {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  async function* gen() {
    yield first;
    await released;
    yield rest;
  }
  return { stream: Readable.from(gen()), release };
}

describe('FsBlobStore writes in worker threads', () => {
  it('stores hundreds of concurrent puts, duplicates among them, each with its own bytes', async () => {
    const root = await freshRoot();
    const store = new FsBlobStore(root, { writeWorkers: 3 });
    try {
      const contents = Array.from({ length: 40 }, (_, i) => randomBytes(i === 0 ? 0 : (i * 7919) % 400_000));
      const order = Array.from({ length: 300 }, (_, i) => (i * 17) % contents.length);
      const leased: string[] = [];
      const results = await Promise.all(order.map((n, i) => store.put(chunked(contents[n], 1000 + (i % 5) * 3000), {
        beforeCommit: async (b) => {
          if (i % 2 === 0) await new Promise((r) => setTimeout(r, i % 7));
          leased.push(b.hash);
        },
      })));
      results.forEach((r, i) => expect(r).toEqual({ hash: sha256(contents[order[i]]), size: contents[order[i]].length }));
      expect(leased).toHaveLength(order.length);
      expect(await walk(root)).toEqual([...new Set(contents.map((c) => blobPath(sha256(c))))].sort());
      for (const c of contents) expect((await store.read(sha256(c))).equals(c)).toBe(true);
      expect(writeThreads(store).length).toBeLessThanOrEqual(3);
    } finally {
      await store.close();
    }
  });

  it('sends a blob of up to ONE_SHOT_BYTES in one message, after beforeCommit, and hears back once', async () => {
    const root = await freshRoot();
    const store = new FsBlobStore(root);
    try {
      for (const length of [0, 300_000, ONE_SHOT_BYTES]) {
        const content = randomBytes(length);
        const before = { ...traffic(store) };
        let postedBeforeLease = -1;
        const blob = await store.put(chunked(content, 64 * 1024), {
          beforeCommit: async (b) => {
            expect(b).toEqual({ hash: sha256(content), size: length });
            postedBeforeLease = traffic(store).posts - before.posts;
            await new Promise((r) => setTimeout(r, 10));
          },
        });
        expect(blob).toEqual({ hash: sha256(content), size: length });
        expect((await store.read(blob.hash)).equals(content)).toBe(true);
        // Nothing went to the worker until the lease was done: no temp file could have been named early.
        expect(postedBeforeLease).toBe(0);
        expect({ posts: traffic(store).posts - before.posts, replies: traffic(store).replies - before.replies })
          .toEqual({ posts: 1, replies: 1 });
      }
      // Without beforeCommit too, hashed by the worker.
      const content = randomBytes(300_000);
      const before = { ...traffic(store) };
      expect(await store.put(chunked(content, 64 * 1024))).toEqual({ hash: sha256(content), size: content.length });
      expect({ posts: traffic(store).posts - before.posts, replies: traffic(store).replies - before.replies })
        .toEqual({ posts: 1, replies: 1 });
      // One byte more and it streams: the first batch, then the rest; the hash, then durable.
      const larger = randomBytes(ONE_SHOT_BYTES + 1);
      const beforeLarger = { ...traffic(store) };
      expect(await store.put(chunked(larger, 64 * 1024), { beforeCommit: async () => undefined }))
        .toEqual({ hash: sha256(larger), size: larger.length });
      expect(traffic(store).posts - beforeLarger.posts).toBeGreaterThan(1);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('writes a Buffer lent from shared memory in place: one post with no bytes in it, done reading when the put settles', async () => {
    const root = await freshRoot();
    const slots = new SharedSlots(ONE_SHOT_BYTES, 4);
    const store = new FsBlobStore(root, { shared: slots.memory, writeWorkers: 2 });
    const posted: unknown[] = [];
    try {
      const contents = Array.from({ length: 12 }, (_, i) => randomBytes(i === 0 ? 0 : 1000 + i * 70_000));
      // Posts are watched as the threads start: the message must name a place in the memory and carry no content.
      const writers = (store as unknown as { writers: { pick(): { thread: { post(m: unknown, t?: unknown): void } } } }).writers;
      const pick = writers.pick.bind(writers);
      writers.pick = () => {
        const w = pick();
        if (!(w.thread.post as { watched?: true }).watched) {
          const post = w.thread.post.bind(w.thread);
          w.thread.post = Object.assign((m: unknown, t?: unknown) => {
            posted.push({ message: m, transfer: t });
            post(m, t as never);
          }, { watched: true as const });
        }
        return w;
      };
      // Four at a time, as many as there are slots; each slot is scribbled over as soon as its put settles.
      for (let i = 0; i < contents.length; i += 4) {
        await Promise.all(contents.slice(i, i + 4).map(async (c) => {
          const bytes = slots.take(c.length)!;
          bytes.set(c);
          try {
            expect(await store.put(bytes, { beforeCommit: async () => undefined })).toEqual({ hash: sha256(c), size: c.length });
          } finally {
            bytes.fill(0xee);
            slots.give(bytes);
          }
        }));
      }
      for (const c of contents) expect((await store.read(sha256(c))).equals(c)).toBe(true);
      expect(posted).toHaveLength(contents.length);
      for (const p of posted as Array<{ message: { at?: number; length?: number; data?: unknown }; transfer?: unknown }>) {
        expect(p.message.data).toBeUndefined();
        expect(p.transfer).toBeUndefined();
        expect(typeof p.message.at).toBe('number');
      }
      expect(slots.inUse).toBe(0);
      // A Buffer of its own is copied across instead, and stored the same.
      const own = randomBytes(200_000);
      expect(await store.put(own)).toEqual({ hash: sha256(own), size: own.length });
      expect((await store.read(sha256(own))).equals(own)).toBe(true);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('rejects a one-message put whose worker is stopped during its beforeCommit, leaving nothing behind', async () => {
    const root = await freshRoot();
    const store = new FsBlobStore(root);
    let leased!: () => void;
    const leasing = new Promise<void>((r) => (leased = r));
    let finishLease!: () => void;
    const lease = new Promise<void>((r) => (finishLease = r));
    const content = randomBytes(300_000);
    const put = store.put(chunked(content), { beforeCommit: async () => { leased(); await lease; } });
    put.catch(() => undefined);
    await leasing;
    await store.close();
    finishLease();
    await expect(put).rejects.toThrow(/blob write worker exited/);
    expect(await walk(root)).toEqual([]);
    expect((await store.put(Readable.from([content]))).hash).toBe(sha256(content));
    await store.close();
  });

  it('streams a large blob to its worker chunk by chunk, reading ahead of the disk by a bounded amount', async () => {
    const root = await freshRoot();
    const store = new FsBlobStore(root);
    try {
      const chunk = randomBytes(64 * 1024);
      const total = 24 * 1024 * 1024;
      const sha = createHash('sha256');
      let produced = 0;
      let ahead = 0;
      const tempDir = join(root, 'tmp');
      // The source records how far it got beyond what is in the temp file whenever it is asked for more.
      async function* gen() {
        while (produced < total) {
          const parts = readdirSync(tempDir, { withFileTypes: true }).filter((e) => e.name.endsWith('.part'));
          const written = parts.length === 1 ? statSync(join(tempDir, parts[0].name)).size : 0;
          ahead = Math.max(ahead, produced - written);
          produced += chunk.length;
          sha.update(chunk);
          yield chunk;
        }
      }
      await mkdir(tempDir, { recursive: true });
      const blob = await store.put(Readable.from(gen()));
      expect(blob).toEqual({ hash: sha.digest('hex'), size: total });
      // At worst the first batch (ONE_SHOT_BYTES + a chunk, gathered before streaming starts) unwritten plus what
      // Readable.from buffers (16 chunks); later a batch gathered + two unwritten + those 16: under 3 MB either way.
      expect(ahead).toBeLessThan(3 * 1024 * 1024);
      expect((await stat(join(root, blobPath(blob.hash)))).size).toBe(total);
    } finally {
      await store.close();
    }
  });

  it('rejects the puts of a worker that dies mid-write, removes their temp files, and carries on with a new one', async () => {
    const root = await freshRoot();
    const store = new FsBlobStore(root, { writeWorkers: 2 });
    try {
      // Two puts in flight, one per worker, each streaming (too big to go in one message): a first batch written, the
      // rest held back.
      const first = () => randomBytes(ONE_SHOT_BYTES + 100_000);
      const held = [heldStream(first(), randomBytes(1000)), heldStream(first(), randomBytes(1000))];
      const puts = held.map((h) => store.put(h.stream));
      const settled = puts.map((p) => p.then(() => 'stored', (err: Error) => err.message));
      await vi.waitFor(async () => expect(await readdir(join(root, 'tmp'))).toHaveLength(2));
      const threads = writeThreads(store);
      expect(threads).toHaveLength(2);
      const dead = threads.find((t) => t.jobs.size === 1)!;
      await dead.terminate();
      held.forEach((h) => h.release());
      const outcomes = await Promise.all(settled);
      expect(outcomes.filter((o) => o === 'stored')).toHaveLength(1);
      expect(outcomes.find((o) => o !== 'stored')).toMatch(/blob write worker exited/);
      // The dead thread's temp file is gone; the survivor's blob is stored.
      expect((await walk(root)).filter((p) => p.startsWith('tmp/'))).toEqual([]);
      // A replacement starts once two puts overlap again.
      const contents = [randomBytes(300_000), randomBytes(300_000)];
      const again = await Promise.all(contents.map((c) => store.put(chunked(c, 100_000))));
      expect(again).toEqual(contents.map((c) => ({ hash: sha256(c), size: c.length })));
      expect(writeThreads(store)).toHaveLength(2);
      expect(writeThreads(store)).not.toContain(dead);
    } finally {
      await store.close();
    }
  });

  it('rejects a put whose commit fails in the worker, leaving no temp file, and the next put still works', async () => {
    const root = await freshRoot();
    const store = new FsBlobStore(root);
    try {
      const content = randomBytes(5000);
      const hash = sha256(content);
      // Its <h0h1> directory is in the way as a plain file: mkdir fails in the worker.
      await writeFile(join(root, hash.slice(0, 2)), 'not a directory');
      await expect(store.put(chunked(content))).rejects.toMatchObject({ code: expect.stringMatching(/^(EEXIST|ENOTDIR)$/) });
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      let other: Buffer;
      do other = randomBytes(5000);
      while (sha256(other).slice(0, 2) === hash.slice(0, 2));
      expect((await store.put(chunked(other))).hash).toBe(sha256(other));
    } finally {
      await store.close();
    }
  });

  it('rejects the puts in flight on close, removing their temp files; the store writes again after', async () => {
    const root = await freshRoot();
    const store = new FsBlobStore(root);
    // Streaming (too big for one message), so its temp file exists while the rest is held back.
    const held = heldStream(randomBytes(ONE_SHOT_BYTES + 100_000), randomBytes(10));
    const put = store.put(held.stream);
    put.catch(() => undefined);
    await vi.waitFor(async () => expect(await readdir(join(root, 'tmp'))).toHaveLength(1));
    await store.close();
    held.release();
    await expect(put).rejects.toThrow(/blob write worker exited/);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    const content = randomBytes(1000);
    expect((await store.put(Readable.from([content]))).hash).toBe(sha256(content));
    await store.close();
  });

  it('does not keep the process alive while idle', async () => {
    const root = await freshRoot();
    const script = `
      require(${JSON.stringify(join(__dirname, '../../../tools/register.cjs'))});
      const { FsBlobStore } = require(${JSON.stringify(join(__dirname, '../src/adapters/fs-blob-store.ts'))});
      const { Readable } = require('node:stream');
      new FsBlobStore(${JSON.stringify(root)}).put(Readable.from([Buffer.from('idle')])).then((b) => console.log(b.hash));
    `;
    const started = Date.now();
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(out.trim()).toBe(sha256(Buffer.from('idle')));
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('FsBlobStore reads in worker threads', () => {
  it('answers hundreds of reads asked for at once, each with its own bytes or its own error', async () => {
    const store = new FsBlobStore(await freshRoot(), { readWorkers: 2 });
    try {
      const contents = Array.from({ length: 60 }, (_, i) => randomBytes(1 + i * 997));
      const hashes = await Promise.all(contents.map(async (c) => (await store.put(chunked(c))).hash));
      const missing = sha256(Buffer.from('missing'));
      const asks = Array.from({ length: 400 }, (_, i) => {
        const n = i % contents.length;
        const start = (i * 31) % (contents[n].length + 3);
        return { n: i % 13 === 0 ? -1 : n, range: i % 3 === 0 ? undefined : { start, end: start + (i % 7) * 500 } };
      });
      const results = await Promise.allSettled(asks.map((a) => store.read(a.n < 0 ? missing : hashes[a.n], a.range)));
      results.forEach((r, i) => {
        const a = asks[i];
        if (a.n < 0) {
          expect(r.status === 'rejected' && r.reason).toBeInstanceOf(BlobNotFoundError);
          return;
        }
        const content = contents[a.n];
        const expected = a.range ? content.subarray(a.range.start, a.range.end + 1) : content;
        expect(r.status === 'fulfilled' && r.value.equals(expected)).toBe(true);
      });
    } finally {
      await store.close();
    }
  });
});

describe('FsBlobStore file permissions', () => {
  it('writes blobs readable by the service (and its group) only: files 0640, directories 0750', async () => {
    const root = await freshRoot();
    const store = new FsBlobStore(root);
    try {
      const { hash } = await store.put(Buffer.from('Subject: private\r\n\r\nnot for other users of the machine\r\n'));
      const file = join(root, blobPath(hash));
      expect((await stat(file)).mode & 0o777).toBe(0o640);
      expect((await stat(join(root, hash.slice(0, 2)))).mode & 0o777).toBe(0o750);
      expect((await stat(join(root, hash.slice(0, 2), hash.slice(2, 4)))).mode & 0o777).toBe(0o750);
    } finally {
      await store.close();
    }
  });
});
