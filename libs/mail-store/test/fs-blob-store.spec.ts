import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FsBlobStore } from '../src/adapters/fs-blob-store';
import { MemoryBlobStore } from '../src/adapters/memory-blob-store';
import { BlobNotFoundError, blobPath } from '../src/ports/blob-store';
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
    const store = new FsBlobStore(root);
    const probe = await open(join(root, 'probe'), 'w');
    const sync = vi.spyOn(Object.getPrototypeOf(probe), 'sync');
    await probe.close();
    try {
      const content = randomBytes(10_000);
      const { hash } = await store.put(chunked(content));
      // temp file + <h2h3> dir (holds the rename) + <h0h1> dir + root (hold the new directories)
      expect(sync.mock.calls.length).toBeGreaterThanOrEqual(4);
      const file = await stat(join(root, hash.slice(0, 2), hash.slice(2, 4), hash));
      expect(file.size).toBe(10_000);
      expect(hash).toBe(sha256(content));
      sync.mockClear();
      await store.put(chunked(content));
      // A duplicate is still written and synced to its temp file (the hash is only known at the end), then dropped.
      expect(sync.mock.calls.length).toBe(1);
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
    } finally {
      sync.mockRestore();
    }
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
