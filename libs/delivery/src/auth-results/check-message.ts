/**
 * SPF, DKIM and DMARC of an inbound message (RFC 7208, 6376, 7489), recorded in an
 * `Authentication-Results:` header (RFC 8601) that the inbound path prepends to the message,
 * with the verdicts also returned for policy decisions (e.g. DMARC p=reject).
 */
import type { Readable } from 'node:stream';
import { authenticate, type DNSResolver } from 'mailauth';

export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

export interface MessageAuthInput {
  /** The raw message as received (before our own headers are added). Read once. */
  message: Readable | Buffer;
  clientIp: string;
  helo?: string | null;
  /** The envelope sender; '' for the null sender (SPF then checks the HELO name). */
  mailFrom: string;
  /** Our host name: the authserv-id of the header. */
  hostname: string;
  resolver: DNSResolver;
  /** Smaller DKIM keys fail (mailauth's default is 1024). */
  minKeyBits?: number;
}

export interface DkimVerdict {
  result: AuthResult;
  domain: string;
  selector: string | null;
  /** The signing domain aligns with the From domain. */
  aligned: boolean;
  comment: string | null;
}

export interface MessageAuthVerdicts {
  spf: { result: AuthResult; domain: string | null; comment: string | null };
  dkim: DkimVerdict[];
  dmarc: {
    result: AuthResult;
    /** The From domain's organisational domain. */
    domain: string | null;
    /** The policy that applies to this message ('none' | 'quarantine' | 'reject'), null without a DMARC record. */
    policy: 'none' | 'quarantine' | 'reject' | null;
    /** pct= of the record (100 when not given). */
    percent: number;
    /** The domain of the From: header (null when it has not exactly one address). */
    fromDomain: string | null;
  };
  arc: {
    result: AuthResult;
    /** d= of the last ARC-Seal (the forwarder that handed the message on); null without a chain. */
    sealer: string | null;
    /** The DMARC result that forwarder recorded in its ARC-Authentication-Results. */
    sealerDmarc: string | null;
  };
}

export interface MessageAuthResult {
  /** `Authentication-Results: <hostname>; ...` folded, ending in CRLF. */
  authenticationResults: string;
  /** `Received-SPF: ...` ending in CRLF (empty when SPF was not checked). */
  receivedSpf: string;
  verdicts: MessageAuthVerdicts;
  /** Set when the check itself failed; the header then says `none` and nothing was verified. */
  error?: string;
}

const norm = (r: string | undefined): AuthResult => (r === 'temperr' ? 'temperror' : ((r ?? 'none') as AuthResult));

/**
 * RFC 6376 §6.3 makes a body hash mismatch a PERMFAIL, which RFC 8601 records as `dkim=fail`;
 * mailauth (like OpenDKIM) writes `neutral`. Each method's result starts the header or follows "; ".
 */
const BODY_HASH_COMMENT = 'body hash did not verify';
const BODY_HASH_NEUTRAL = /(^Authentication-Results: [^;]*;\r\n |;\r\n )dkim=neutral (\(body hash did not verify\))/g;

/** Header fields of mailauth's combined header block: each field with its folded continuation lines. */
function splitHeaderFields(block: string): string[] {
  return block
    .replace(/\r\n$/, '')
    .split(/\r\n(?=[^ \t])/)
    .filter(Boolean)
    .map((f) => `${f}\r\n`);
}

export async function checkMessageAuth(input: MessageAuthInput): Promise<MessageAuthResult> {
  try {
    const res = await authenticate(input.message, {
      ip: input.clientIp,
      helo: input.helo || undefined,
      sender: input.mailFrom,
      mta: input.hostname,
      resolver: input.resolver,
      minBitLength: input.minKeyBits,
      // BIMI costs lookups for a logo nobody shows; we verify ARC chains but do not seal.
      disableBimi: true,
      trustReceived: false,
    });
    const fields = splitHeaderFields(res.headers);
    const authenticationResults = (fields.find((f) => /^authentication-results:/i.test(f)) ?? `Authentication-Results: ${input.hostname}; none\r\n`).replace(
      BODY_HASH_NEUTRAL,
      '$1dkim=fail $2',
    );
    const receivedSpf = fields.find((f) => /^received-spf:/i.test(f)) ?? '';
    const spf = res.spf || undefined;
    const dmarc = res.dmarc || undefined;
    const policy = dmarc?.policy as MessageAuthVerdicts['dmarc']['policy'] | undefined;
    const from = res.dkim.headerFrom ?? [];
    const arc = res.arc || undefined;
    const chain = (arc as { chain?: Array<Record<string, { parsed?: { d?: { value?: string } } }>> } | undefined)?.chain;
    const lastSeal = chain?.length ? chain[chain.length - 1]['arc-seal']?.parsed?.d?.value : undefined;
    const sealerAr = (arc as { authenticationResults?: { dmarc?: { result?: string } } } | undefined)?.authenticationResults;
    return {
      authenticationResults,
      receivedSpf,
      verdicts: {
        spf: { result: norm(spf?.status.result), domain: spf?.domain ?? null, comment: spf?.status.comment ?? null },
        // An unsigned message has one "none" row for the header; the verdicts list signatures only.
        dkim: (res.dkim.results ?? []).filter((d) => d.signingDomain).map((d) => ({
          result: d.status.result === 'neutral' && d.status.comment === BODY_HASH_COMMENT ? 'fail' : norm(d.status.result),
          domain: d.signingDomain,
          selector: d.selector ?? null,
          aligned: !!d.status.aligned,
          comment: typeof d.status.comment === 'string' ? d.status.comment : null,
        })),
        dmarc: {
          result: norm(dmarc?.status.result),
          domain: dmarc?.domain ?? null,
          policy: policy && ['none', 'quarantine', 'reject'].includes(policy) ? policy : null,
          percent: typeof dmarc?.pct === 'number' ? dmarc.pct : 100,
          fromDomain: from.length === 1 && from[0].includes('@') ? from[0].slice(from[0].lastIndexOf('@') + 1).toLowerCase() : null,
        },
        arc: {
          result: norm(arc?.status.result),
          sealer: typeof lastSeal === 'string' ? lastSeal.toLowerCase() : null,
          sealerDmarc: sealerAr?.dmarc?.result ?? null,
        },
      },
    };
  } catch (e) {
    // A message mailauth cannot parse is still mail: it is delivered saying nothing was verified.
    return {
      authenticationResults: `Authentication-Results: ${input.hostname}; none\r\n`,
      receivedSpf: '',
      verdicts: {
        spf: { result: 'none', domain: null, comment: null },
        dkim: [],
        dmarc: { result: 'none', domain: null, policy: null, percent: 100, fromDomain: null },
        arc: { result: 'none', sealer: null, sealerDmarc: null },
      },
      error: e instanceof Error ? e.message : String(e),
    };
  }
}
