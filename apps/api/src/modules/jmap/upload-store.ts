/**
 * Which account uploaded which blob (RFC 8620 §6.1), in Redis with an expiry: an upload is temporary by nature, the
 * bytes themselves are in the blob store (leased for its grace period, longer than the expiry). A lost key costs the
 * client an upload again (blobNotFound), never a message.
 */
import type Redis from 'ioredis';
import type { BlobStore } from '@dizi/mail-store/ports/blob-store';
import { UPLOAD_TTL_SECONDS, type JmapUploads, type UploadedBlob } from '@dizi/jmap/uploads';

export class RedisUploads implements JmapUploads {
  constructor(private readonly redis: Redis, private readonly blobs: BlobStore, private readonly ttlSeconds = UPLOAD_TTL_SECONDS) {}

  async remember(accountId: string, upload: UploadedBlob): Promise<void> {
    await this.redis.set(key(accountId, upload.blobId), JSON.stringify({ hash: upload.hash, size: upload.size, type: upload.type }), 'EX', this.ttlSeconds);
  }

  async find(accountId: string, blobId: string): Promise<UploadedBlob | null> {
    const raw = await this.redis.get(key(accountId, blobId));
    if (!raw) return null;
    const v = JSON.parse(raw) as { hash: string; size: number; type: string };
    return { blobId, hash: v.hash, size: v.size, type: v.type };
  }

  read(upload: UploadedBlob): Promise<Buffer> {
    return this.blobs.read(upload.hash);
  }
}

function key(accountId: string, blobId: string): string {
  return `jmap:upload:${accountId}:${blobId}`;
}
