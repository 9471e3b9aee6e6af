/**
 * The message authentication port: SPF, DKIM, DMARC and ARC of a message arriving on the MX port (RFC 7208, 6376,
 * 7489, 8617), read from the message as the client sent it while DATA streams. The mailauth-based adapter lives in
 * libs/delivery/src/auth-results; the decisions on its report (DMARC reject / quarantine, trusted ARC) are the
 * dmarc-policy content check (pipeline.ts).
 */
import type { Readable } from 'node:stream';

export type AuthMethodResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';
export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface MessageAuthRequest {
  /** The message as received (normalised line ends, before our own header lines). Read once, to its end. */
  message: Readable;
  clientIp: string;
  helo: string;
  /** Envelope sender; '' for the null sender (SPF then checks the HELO name). */
  mailFrom: string;
  /** Our authserv-id (RFC 8601), the first thing in the header we write. */
  authservId: string;
  /** The whole check (every DNS lookup) must fit in this; past it the results are temperror. */
  timeoutMs: number;
  /** Per DNS query. */
  dnsTimeoutMs: number;
  /** How long an answer may be reused for later messages (0: ask every time). */
  dnsCacheMs?: number;
}

export interface MessageAuthReport {
  /** `Authentication-Results:` and `Received-SPF:` lines for every delivered copy, each ending in CRLF. */
  headers: string[];
  spf: AuthMethodResult;
  /** One result per DKIM signature ('none' for none). */
  dkim: AuthMethodResult[];
  dmarc: {
    result: AuthMethodResult;
    /** The From: header's domain and its organisational domain (null without a From: domain). */
    fromDomain: string | null;
    orgDomain: string | null;
    /** The policy the From domain publishes for this message (p=, or sp= for a subdomain); null without a record. */
    policy: DmarcPolicy | null;
    /** pct= (100 when not given). */
    percent: number;
  };
  arc: {
    result: AuthMethodResult;
    /** d= of the last ARC-Seal: the forwarder that handed the message to us. */
    sealer: string | null;
    /** The DMARC result that forwarder recorded in its ARC-Authentication-Results. */
    sealerDmarc: string | null;
  };
  /** Set when the check failed or timed out as a whole. */
  error?: string;
}

/** Never rejects: a failure (DNS, a message it cannot parse) is reported as temperror/none with `error`. */
export interface MessageAuthenticator {
  check(request: MessageAuthRequest): Promise<MessageAuthReport>;
}

/**
 * Our authserv-id. The node's host name for now; kept to this one call so the host-name setting (issue 11 item 8)
 * can take its place in one line.
 */
export function authservId(hostname: string): string {
  return hostname.toLowerCase();
}
