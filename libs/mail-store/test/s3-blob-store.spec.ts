import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore, s3ClientConfig } from '../src/adapters/s3-blob-store';
import { describeBlobStore, sha256 } from './blob-store-suite';

const BUCKET = 'dizi-blobs';
let server: S3rver;
let client: S3Client;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dizi-s3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  client = new S3Client(s3ClientConfig({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  }));
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice(prefix.length)));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

describeBlobStore('S3BlobStore', async () => {
  const prefix = 'suite/';
  return { store: new S3BlobStore(client, { bucket: BUCKET, prefix }), listAll: () => listKeys(prefix) };
});

describe('S3BlobStore large messages', () => {
  it('streams a 20 MB message up in parts and reads it back byte for byte', async () => {
    const store = new S3BlobStore(client, { bucket: BUCKET, prefix: 'large/', partSize: 5 * 1024 * 1024 });
    const size = 20 * 1024 * 1024;
    const sha = createHash('sha256');
    // Generated on the fly (never one 20 MB buffer), as SMTP DATA would arrive.
    async function* source() {
      for (let sent = 0; sent < size; sent += 64 * 1024) {
        const chunk = randomBytes(Math.min(64 * 1024, size - sent));
        sha.update(chunk);
        yield chunk;
      }
    }
    const blob = await store.put(Readable.from(source()));
    const expected = sha.digest('hex');
    expect(blob).toEqual({ hash: expected, size });
    expect(await store.stat(blob.hash)).toEqual({ hash: expected, size });
    const readBack = createHash('sha256');
    let read = 0;
    for await (const chunk of await store.get(blob.hash)) {
      readBack.update(chunk as Buffer);
      read += (chunk as Buffer).length;
    }
    expect(read).toBe(size);
    expect(readBack.digest('hex')).toBe(expected);
    const tail = Buffer.alloc(0);
    const chunks: Buffer[] = [tail];
    for await (const c of await store.get(blob.hash, { start: size - 10, end: size + 100 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).length).toBe(10);
    expect(await listKeys('large/')).toEqual([`${expected.slice(0, 2)}/${expected.slice(2, 4)}/${expected}`]);
    expect(sha256(Buffer.alloc(0))).toHaveLength(64);
  }, 120_000);
});
