/**
 * The content scanner port: what the inbound listeners need to learn whether a spooled message carries a virus
 * and how spammy it is. The clamd/spamd clients behind it live in libs/filters; the decisions taken on its report
 * (refuse, Junk, Virus, headers) are the content checks of the pipeline (pipeline.ts).
 */

/** One message as spooled (our Received header first), read by the scanner from the blob store. */
export interface SpooledContent {
  hash: string;
  size: number;
}

export interface ContentScanRequest {
  message: SpooledContent;
  /** null: not asked for (off, or a submission the settings exempt). */
  virus: { address: string; maxBytes: number } | null;
  /** `engine`: SpamAssassin's spamd or Rspamd (HTTP /checkv2) at `address`. */
  spam: { address: string; maxBytes: number; engine?: 'spamassassin' | 'rspamd' } | null;
  /** The SMTP envelope, for scanners that use it (rspamd's IP, HELO, From and Rcpt checks). */
  envelope?: { ip: string; helo: string; from: string; rcpt: string[] };
  /** Each scanner's whole exchange (connect, send, verdict) must fit in this. */
  timeoutMs: number;
}

export type VirusFinding =
  | { status: 'clean' }
  | { status: 'infected'; signature: string }
  /** Not scanned on purpose (larger than the limit). */
  | { status: 'skipped'; reason: string }
  /** The scanner was down, too slow or answered nonsense. */
  | { status: 'failed'; error: string };

export type SpamFinding =
  | { status: 'scanned'; score: number; symbols: string[] }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; error: string };

export interface ContentScanReport {
  /** null when not asked for. */
  virus: VirusFinding | null;
  spam: SpamFinding | null;
  /** Wall time of the scan (both scanners run at once). */
  elapsedMs: number;
}

/** Never rejects: a scanner's trouble is reported as its `failed` finding, for the checks to judge. */
export interface ContentScanner {
  scan(request: ContentScanRequest): Promise<ContentScanReport>;
}
