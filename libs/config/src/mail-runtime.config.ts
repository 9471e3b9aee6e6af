/**
 * The variables every process that serves mail shares (a mail node, the API serving JMAP): where blobs live, the
 * secrets that must match across the installation. Both configs include this shape, so the composition of the mail
 * runtime (@dizi/delivery/compose) reads one validated object whichever process runs it.
 */
import { z } from 'zod';

export const mailRuntimeConfigShape = {
  /** Prefix for every Redis key, so several installations (or test runs) can share one Redis. */
  REDIS_PREFIX: z.string().default('dizi:'),
  DIZI_DATA_DIR: z.string().default('.dizi'),
  /** Where message blobs live: a local directory (fs) or an S3 bucket. */
  BLOB_STORE: z.enum(['fs', 's3']).default('fs'),
  BLOB_DIR: z.string().optional().describe('default: DIZI_DATA_DIR/blobs'),
  S3_BUCKET: z.string().optional(),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** AES-256 key (base64 or hex) sealing secrets in the settings (relay password); the same in the API and on every node. Unset: DIZI_DATA_DIR/keys/settings.key (development). */
  SETTINGS_ENCRYPTION_KEY: z.string().optional(),
  /** SRS secrets, comma-separated: the first signs forwarded senders, all are accepted in bounces (rotation). Same on every node. Unset: DIZI_DATA_DIR/keys/srs.secret (development). */
  SRS_SECRETS: z.string().optional(),
  /** Days a bounce to an SRS address we made is accepted. */
  SRS_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(365).default(21),
  /**
   * Seconds a verified mailbox sign-in (IMAP, POP3, SMTP AUTH, ManageSieve, API, JMAP) is trusted without running
   * argon2id again (Dovecot's auth_cache_ttl). Kept in memory as a keyed hash bound to the stored password hash, never
   * the password; a password change, suspension or delete counts at the next sign-in. 0: off.
   */
  AUTH_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(120),
  /** Verified sign-ins kept per process at most (Dovecot's auth_cache_size); the least recently used go first. */
  AUTH_CACHE_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
};

export const mailRuntimeConfigSchema = z.object(mailRuntimeConfigShape);
export type MailRuntimeConfig = z.infer<typeof mailRuntimeConfigSchema>;

/** The check zod cannot express per field; each process's loader reports it with the variable's name. */
export function mailRuntimeConfigIssues(c: MailRuntimeConfig): string[] {
  return c.BLOB_STORE === 's3' && !c.S3_BUCKET ? ['S3_BUCKET: required when BLOB_STORE=s3'] : [];
}
