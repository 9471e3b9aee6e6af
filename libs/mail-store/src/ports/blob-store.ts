/** Content-addressed storage of raw messages: one object per SHA-256, shared by every copy of a message. */
import type { Readable } from 'node:stream';

export interface StoredBlob {
  /** SHA-256 of the content, lowercase hex. */
  hash: string;
  size: number;
}

/** Byte offsets, both inclusive (like HTTP `Range` and `fs.createReadStream`). `end` past the last byte is clamped. */
export interface BlobRange {
  start: number;
  end: number;
}

export interface BlobPutOptions {
  /** The put fails with BlobTooLargeError as soon as more bytes than this arrive; nothing is left behind. */
  maxBytes?: number;
  /**
   * Called once the hash is known and before the blob becomes visible under it. MessageStore.putBlob uses it to lease
   * the blob row first, so garbage collection can never delete the object between this put and the append.
   */
  beforeCommit?: (blob: StoredBlob) => Promise<void>;
}

export interface BlobStore {
  /**
   * Stores the content, streamed or whole (a Buffer, which must not change until the put settles), while hashing it;
   * identical content is stored once.
   */
  put(content: Readable | Buffer, opts?: BlobPutOptions): Promise<StoredBlob>;
  /** Rejects with BlobNotFoundError when no such blob exists. */
  get(hash: string, range?: BlobRange): Promise<Readable>;
  /**
   * The same bytes in one buffer, for callers that hold them whole anyway (IMAP FETCH of many small messages): no
   * stream per blob. A range past the end is clamped. Rejects with BlobNotFoundError.
   */
  read(hash: string, range?: BlobRange): Promise<Buffer>;
  stat(hash: string): Promise<StoredBlob | null>;
  /** Idempotent: deleting a missing blob is not an error. */
  delete(hash: string): Promise<void>;
}

export class BlobNotFoundError extends Error {
  readonly code = 'BLOB_NOT_FOUND';
  constructor(readonly hash: string) {
    super(`blob ${hash} does not exist`);
    this.name = 'BlobNotFoundError';
  }
}

/** The message is bigger than the size limit; SMTP answers 552, IMAP APPEND answers NO [TOOBIG]. */
export class BlobTooLargeError extends Error {
  readonly code = 'BLOB_TOO_LARGE';
  readonly smtpCode = 552;
  constructor(readonly maxBytes: number) {
    super(`message exceeds the size limit of ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Hashes arrive from callers and end up in paths and keys: anything but 64 lowercase hex digits is refused. */
export function assertBlobHash(hash: string): void {
  if (!SHA256_HEX.test(hash)) throw new BlobNotFoundError(hash);
}

/** `<h0h1>/<h2h3>/<hash>`: two levels of 256 directories keep every directory small. */
export function blobPath(hash: string): string {
  assertBlobHash(hash);
  return `${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;
}

/** Clamps a range to a blob of `size` bytes; returns null when it selects nothing. */
export function clampRange(range: BlobRange, size: number): BlobRange | null {
  const start = Math.max(0, range.start);
  const end = Math.min(size - 1, range.end);
  return start > end ? null : { start, end };
}
