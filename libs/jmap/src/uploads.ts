/**
 * Uploaded blobs (RFC 8620 §6.1): the bytes go to the content-addressed blob store (leased there for its garbage
 * collection grace period); which account uploaded which blob, its type and size are kept apart for a while
 * (UPLOAD_TTL_SECONDS), so a blob id names only blobs of the account that uploaded them. Nothing counts against the
 * quota until a message is made from it (Email/import, an attachment of Email/set create).
 */
export interface UploadedBlob {
  blobId: string;
  /** SHA-256 of the content (the blob store's key). */
  hash: string;
  size: number;
  type: string;
}

export interface JmapUploads {
  /** Remembers an upload of the account for UPLOAD_TTL_SECONDS. */
  remember(accountId: string, upload: UploadedBlob): Promise<void>;
  /** null when the account uploaded no such blob, or it expired. */
  find(accountId: string, blobId: string): Promise<UploadedBlob | null>;
  /** The bytes of an upload found above. */
  read(upload: UploadedBlob): Promise<Buffer>;
}

/** Well inside the blob store's 24 h grace period, so a remembered upload still has its bytes. */
export const UPLOAD_TTL_SECONDS = 12 * 3600;

export const uploadBlobIdOf = (hash: string): string => `U${hash}`;

export function isUploadBlobId(id: string): boolean {
  return /^U[0-9a-f]{64}$/.test(id);
}
