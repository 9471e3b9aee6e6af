/** A message as served: the per-recipient header prefix followed by the shared blob, with byte ranges across both. */
import { Readable } from 'node:stream';
import { clampRange, type BlobRange, type BlobStore } from './ports/blob-store';

export async function composeMessageSource(
  blobs: BlobStore, headerPrefix: string, blobHash: string, blobSize: number, range?: BlobRange,
): Promise<Readable> {
  const prefix = Buffer.from(headerPrefix, 'utf8');
  const total = prefix.length + blobSize;
  let prefixPart = prefix;
  let blobRange: BlobRange | null = { start: 0, end: blobSize - 1 };
  if (range) {
    const clamped = clampRange(range, total);
    if (!clamped) return Readable.from([]);
    prefixPart = prefix.subarray(Math.min(clamped.start, prefix.length), Math.min(clamped.end + 1, prefix.length));
    blobRange = clamped.end < prefix.length ? null : { start: Math.max(0, clamped.start - prefix.length), end: clamped.end - prefix.length };
  }
  if (blobRange && blobRange.start > blobRange.end) blobRange = null;
  // Opened before returning so a missing blob rejects here, not halfway through a FETCH response.
  const body = blobRange ? await blobs.get(blobHash, range ? blobRange : undefined) : null;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (prefixPart.length > 0) yield prefixPart;
    if (body) for await (const chunk of body) yield chunk as Buffer;
  }
  return Readable.from(chunks());
}

/** The same as one buffer: the blob is read whole (or the part of it the range covers) in one call. */
export async function readMessageBytes(
  blobs: BlobStore, headerPrefix: string, blobHash: string, blobSize: number, range?: BlobRange,
): Promise<Buffer> {
  const prefix = headerPrefix === '' ? EMPTY : Buffer.from(headerPrefix, 'utf8');
  const total = prefix.length + blobSize;
  const clamped = clampRange(range ?? { start: 0, end: total - 1 }, total);
  if (!clamped) return EMPTY;
  const prefixPart = prefix.subarray(Math.min(clamped.start, prefix.length), Math.min(clamped.end + 1, prefix.length));
  if (clamped.end < prefix.length) return Buffer.from(prefixPart);
  const body = await blobs.read(blobHash, { start: Math.max(0, clamped.start - prefix.length), end: clamped.end - prefix.length });
  return prefixPart.length ? Buffer.concat([prefixPart, body]) : body;
}

const EMPTY = Buffer.alloc(0);
