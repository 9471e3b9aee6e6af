/**
 * Blobs as S3 objects keyed `<prefix><h0h1>/<h2h3>/<hash>`. The hash is only known at the end of the stream, so the
 * upload goes to a temp key first and is then copied to its final key (or dropped when that key already exists).
 */
import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, Readable, Transform, pipeline as pipelineWithCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  BlobNotFoundError, BlobTooLargeError, blobPath,
  type BlobPutOptions, type BlobRange, type BlobStore, type StoredBlob,
} from '../ports/blob-store';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix, e.g. `blobs/`; empty by default. */
  prefix?: string;
  /** Multipart part size; S3's minimum is 5 MiB. */
  partSize?: number;
  /** Parts uploaded in parallel per put. */
  queueSize?: number;
}

/**
 * Client settings every S3BlobStore needs besides endpoint and credentials: without WHEN_REQUIRED checksums, streamed
 * uploads to S3-compatible servers such as s3rver are stored corrupted (STACK.md).
 */
export function s3ClientConfig(config: S3ClientConfig): S3ClientConfig {
  return { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', ...config };
}

export class S3BlobStore implements BlobStore {
  private readonly prefix: string;
  private readonly committing = new KeyedQueue();

  constructor(private readonly client: S3Client, private readonly options: S3BlobStoreOptions) {
    this.prefix = options.prefix ?? '';
  }

  async put(content: Readable | Buffer, opts: BlobPutOptions = {}): Promise<StoredBlob> {
    const stream = Buffer.isBuffer(content) ? Readable.from([content]) : content;
    const { bucket } = this.options;
    const tempKey = `${this.prefix}tmp/${randomUUID()}`;
    const sha = createHash('sha256');
    let size = 0;
    const maxBytes = opts.maxBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) return done(new BlobTooLargeError(maxBytes));
        sha.update(chunk);
        done(null, chunk);
      },
    });
    const body = new PassThrough();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: bucket, Key: tempKey, Body: body },
      partSize: this.options.partSize ?? 8 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 4,
      leavePartsOnError: false,
    });
    const pumped = pipeline(stream, meter, body);
    const uploaded = upload.done();
    // Whichever side fails first, the other must not be left hanging or rejecting unobserved.
    pumped.catch(() => undefined);
    uploaded.catch(() => undefined);
    try {
      await Promise.all([pumped, uploaded]);
    } catch (err) {
      body.destroy();
      stream.destroy();
      await upload.abort().catch(() => undefined);
      await this.deleteKey(tempKey).catch(() => undefined);
      throw err;
    }

    const blob = { hash: sha.digest('hex'), size };
    try {
      await opts.beforeCommit?.(blob);
      const key = this.keyOf(blob.hash);
      // One copy per hash at a time in this process: S3 copes with racing copies of one key, simpler servers do not.
      await this.committing.run(blob.hash, async () => {
        if ((await this.headSize(key)) === null) {
          await this.client.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/${tempKey}` }));
        }
      });
    } finally {
      await this.deleteKey(tempKey).catch(() => undefined);
    }
    return blob;
  }

  async get(hash: string, range?: BlobRange): Promise<Readable> {
    if (range && range.start > range.end) return Readable.from([]);
    try {
      const start = Math.max(0, range?.start ?? 0);
      const out = await this.client.send(new GetObjectCommand({
        Bucket: this.options.bucket,
        Key: this.keyOf(hash),
        Range: range ? `bytes=${start}-${range.end}` : undefined,
      }));
      const body = out.Body as Readable;
      if (!range) return body;
      // HTTP lets a server answer more than the range asked for (s3rver sends everything for `bytes=0-0`):
      // trim to what was asked, going by the range the server says it sent.
      const sent = /^bytes (\d+)-(\d+)\//.exec(out.ContentRange ?? '');
      const sentStart = sent ? Number(sent[1]) : 0;
      const sentEnd = sent ? Number(sent[2]) : Number.MAX_SAFE_INTEGER;
      if (sentStart === start && sentEnd <= range.end) return body;
      const sliced = sliceStream(start - sentStart, range.end - start + 1);
      // The callback form forwards a body error into `sliced`, where the reader sees it.
      pipelineWithCallback(body, sliced, () => undefined);
      return sliced;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) throw new BlobNotFoundError(hash);
      // A range starting past the end selects nothing, as in the other stores.
      if (e.name === 'InvalidRange' || e.$metadata?.httpStatusCode === 416) return Readable.from([]);
      throw err;
    }
  }

  async read(hash: string, range?: BlobRange): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.get(hash, range)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async stat(hash: string): Promise<StoredBlob | null> {
    const size = await this.headSize(this.keyOf(hash));
    return size === null ? null : { hash, size };
  }

  async delete(hash: string): Promise<void> {
    await this.deleteKey(this.keyOf(hash));
  }

  private keyOf(hash: string): string {
    return this.prefix + blobPath(hash);
  }

  private async headSize(key: string): Promise<number | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
  }

  private async deleteKey(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
  }
}

/** Runs tasks one after another per key. */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(task);
    this.tails.set(key, current);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }
}

/** Skips `skip` bytes, then passes at most `take` bytes. */
function sliceStream(skip: number, take: number): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const from = Math.max(0, skip - offset);
      const to = Math.min(chunk.length, skip + take - offset);
      offset += chunk.length;
      done(null, from < to ? chunk.subarray(from, to) : undefined);
    },
  });
}
