/** The S3 client of the blob store, from the installation's variables (an endpoint means a non-AWS service: path style). */
import { S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore } from './s3-blob-store';

export interface S3Location {
  bucket: string;
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export function s3BlobStoreAt(at: S3Location): S3BlobStore {
  return new S3BlobStore(
    new S3Client({
      region: at.region,
      endpoint: at.endpoint,
      forcePathStyle: !!at.endpoint,
      credentials: at.accessKeyId ? { accessKeyId: at.accessKeyId, secretAccessKey: at.secretAccessKey ?? '' } : undefined,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    { bucket: at.bucket },
  );
}
