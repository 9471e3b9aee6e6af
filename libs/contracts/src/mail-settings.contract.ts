/**
 * Operator settings of the mail nodes, stored in PostgreSQL (system_setting key `smtp`), changed
 * through the API and applied by every node without restart. Each default is the product's.
 */
import { z } from 'zod';

const MB = 1024 * 1024;

/** `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32`. */
const ipOrCidr = z.string().trim().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'must be an IP address or a CIDR range like 10.0.0.0/8');
/** `@spam.test` (a whole domain) or `spam@x.test` (one sender); `*` wildcards allowed in either part. */
const senderPattern = z.string().trim().toLowerCase().regex(/^[^\s@]*@[^\s@]+$/, 'must look like @spam.test or user@spam.test');
/** A scanning daemon: `127.0.0.1:3310`, `[::1]:783`, `clamd.internal:3310`, `/run/clamav/clamd.ctl` or `unix:/run/…`. */
const scannerAddress = z.string().trim().regex(
  /^(?:(?:unix:)?\/[^\s\0]+|(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5})$/,
  'must be host:port or a unix socket path like /run/clamav/clamd.ctl',
);

const outboundTlsPolicy = z.enum(['opportunistic', 'verify']);
export type OutboundTlsPolicy = z.infer<typeof outboundTlsPolicy>;

export const smtpSettings = z.object({
  greeting: z.string().max(200).default('Dizi ESMTP ready').describe('text after 220 in the greeting banner'),
  maxMessageBytes: z.number().int().min(1024).max(2048 * MB).default(100 * MB),
  maxRecipients: z.number().int().min(1).max(128).default(16).describe('recipients per message'),
  maxHops: z.number().int().min(1).max(256).default(32).describe('Received header lines before a message is refused as a loop'),
  connectionTimeoutSeconds: z.number().int().min(10).max(3600).default(300).describe('idle time before a session is closed'),
  sessionDeadlineSeconds: z.number().int().min(60).max(86_400).default(1800).describe('total time one session may last'),
  minDataRateBytesPerSecond: z.number().int().min(0).max(10 * MB).default(1024).describe('slower DATA is cut off'),
  connectionsPerIpPerMinute: z.number().int().min(1).max(100_000).default(32),
  concurrentConnectionsPerIp: z.number().int().min(1).max(10_000).default(32),
  maxAuthFailures: z.number().int().min(1).max(100).default(5).describe('failed AUTH attempts before delay and disconnect'),
  maxUnknownRecipients: z.number().int().min(1).max(1000).default(5).describe('unknown recipients before the session slows down, twice that before it ends'),
  maxCommandLineBytes: z.number().int().min(512).max(65_536).default(2048)
    .describe('longest SMTP command line, CRLF included (RFC 5321 says 512; room for extensions); longer lines get 500 5.5.2 and are not run'),
  junkCommandLimit: z.number().int().min(1).max(100_000).default(100)
    .describe('NOOP, RSET, VRFY, EXPN, HELP, ETRN and unknown or over-long commands one session may send before it is closed with 421'),
  greetingDelayMs: z.number().int().min(0).max(30_000).default(100)
    .describe('on port 25, a client not seen before waits this long for the greeting and is cut off if it talks first (0: no wait)'),
  greetingPassTtlSeconds: z.number().int().min(0).max(30 * 86_400).default(86_400)
    .describe('a client address that waited for the greeting once is greeted at once for this long (0: never remembered)'),
  allowVrfy: z.boolean().default(false),
  allowEtrn: z.boolean().default(false),
  allowNullSender: z.boolean().default(true).describe('MAIL FROM:<> (bounces)'),
  requireResolvableSenderDomain: z.boolean().default(false),
  ipAllowList: z.array(ipOrCidr).max(10_000).default([]),
  ipBlockList: z.array(ipOrCidr).max(10_000).default([]),
  senderBlockList: z.array(senderPattern).max(10_000).default([]),
  quotaWarningPercent: z.number().int().min(50).max(100).default(90)
    .describe('a mailbox reaching this share of its quota gets the quota-warning mail (once per crossing)'),
  welcomeMailEnabled: z.boolean().default(true)
    .describe('put the welcome mail (settings/templates) into the INBOX of every mailbox created, one by one or by CSV import'),
  retryIntervalSeconds: z.number().int().min(60).max(86_400).default(480),
  maxDeliveryAttempts: z.number().int().min(1).max(100).default(16),
  /** Relay host for outbound mail; `never` sends straight to the MX. */
  relay: z
    .object({
      mode: z.enum(['never', 'on_failure', 'always']).default('never'),
      host: z.string().default(''),
      port: z.number().int().min(1).max(65535).default(587),
      username: z.string().default(''),
      password: z.string().default(''),
      authMethod: z.enum(['PLAIN', 'LOGIN', 'CRAM-MD5']).default('PLAIN'),
    })
    .prefault({}),
  /**
   * TLS to remote MX hosts and fixed routes: `opportunistic` encrypts when STARTTLS is offered and takes any
   * certificate (the log says whether it verified); `verify` sends only over TLS with a certificate valid for
   * the host name, else the mail waits (deferred).
   */
  outboundTlsPolicy: outboundTlsPolicy.default('opportunistic'),
  outboundTlsPolicyByDomain: z
    .record(z.string().trim().toLowerCase().regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/, 'keys must be destination domain names'), outboundTlsPolicy)
    .default({})
    .describe('per destination domain, over outboundTlsPolicy: {"bank.example": "verify"}'),
  logRetentionDays: z.number().int().min(1).max(3650).default(30),
  mtaStsMode: z.enum(['enforce', 'testing', 'none']).default('testing')
    .describe('MTA-STS policy served at https://mta-sts.<domain>/.well-known/mta-sts.txt: enforce (senders must reach the MX over verified TLS), testing (they only report), none (withdraw the policy)'),
  mtaStsMaxAgeDays: z.number().int().min(1).max(365).default(7).describe('how long senders may cache the MTA-STS policy, in days'),
  sieveMaxScriptSize: z.number().int().min(1024).max(1024 * 1024).default(64 * 1024)
    .describe('largest Sieve script accepted (API, ManageSieve), in bytes'),
  sieveMaxScripts: z.number().int().min(1).max(1000).default(16)
    .describe('most Sieve scripts one mailbox, domain or the operator may keep'),
  sieveMaxActions: z.number().int().min(1).max(1000).default(32)
    .describe('most actions (keep, fileinto, redirect, reject, vacation) the Sieve scripts may take for one message, all levels together'),
  sieveMaxRedirects: z.number().int().min(0).max(100).default(4)
    .describe('most redirects the Sieve scripts may send one message on to, all levels together'),
  autoReplyPeriodDays: z.number().int().min(1).max(365).default(7)
    .describe('a mailbox auto-replies to one sender at most once in this many days (RFC 3834 suggests days, not minutes)'),
  delayNoticeAfterMinutes: z.number().int().min(5).max(7 * 1440).default(240)
    .describe('a sender whose mail to a remote recipient is still waiting this long after arrival gets one delay notice'),
  outboundClaimLeaseSeconds: z.number().int().min(60).max(86_400).default(900)
    .describe('how long an outbound attempt keeps its recipients from other workers; a crashed worker\'s are retried after it'),
  spoolRetentionDays: z.number().int().min(1).max(365).default(7)
    .describe('finished messages stay in the queue view this long, then are deleted with their spool blobs'),
  loginMaxFailuresPerAccountIp: z.number().int().min(1).max(1000).default(5)
    .describe('failed IMAP, POP3 and SMTP AUTH sign-ins of one account from one address before that pair pauses (15 minutes)'),
  loginMaxFailuresPerIp: z.number().int().min(1).max(1_000_000).default(1000)
    .describe('failed IMAP, POP3 and SMTP AUTH sign-ins from one address, any account, in an hour before the address pauses'),
  // Content filtering before the final reply to DATA (libs/smtp/src/inbound/content, libs/filters). Off until an operator
  // points it at running daemons; once on, a scanner that fails defers the message unless scannerFailureAction says accept.
  antivirusEnabled: z.boolean().default(false).describe('scan incoming mail with ClamAV (clamd INSTREAM) before answering DATA'),
  antivirusAddress: scannerAddress.default('127.0.0.1:3310').describe('clamd: host:port, or a unix socket path such as /run/clamav/clamd.ctl'),
  antivirusAction: z.enum(['reject', 'virus_folder', 'quarantine', 'discard']).default('reject')
    .describe('infected mail: refuse with 554 5.7.1 naming the virus, deliver to the Virus folder, hold it in quarantine, or accept and drop it'),
  antivirusMaxBytes: z.number().int().min(1024).max(2048 * MB).default(25 * MB)
    .describe('larger messages are not virus-scanned (X-Virus-Status says so); keep clamd StreamMaxLength at least this big'),
  antivirusOnSubmission: z.boolean().default(true).describe('virus-scan mail from signed-in users (submission ports) too'),
  antispamEnabled: z.boolean().default(false).describe('score incoming mail with SpamAssassin (spamd) or Rspamd (antispamScanner) before answering DATA'),
  antispamAddress: scannerAddress.default('127.0.0.1:783').describe('spamd: host:port, or a unix socket path'),
  antispamScanner: z.enum(['spamassassin', 'rspamd']).default('spamassassin')
    .describe('which scanner scores spam: SpamAssassin spamd at antispamAddress, or Rspamd (HTTP /checkv2) at rspamdAddress'),
  rspamdAddress: scannerAddress.default('127.0.0.1:11333').describe('rspamd normal worker: host:port, or a unix socket path'),
  antispamHeaderScore: z.number().min(-1000).max(1000).default(-1000).describe('X-Spam-* headers are added at or above this score (-1000: always)'),
  antispamTagScore: z.number().min(-1000).max(1000).default(5).describe('at or above this score the message is flagged as spam (X-Spam-Flag: YES) and still delivered to the INBOX'),
  antispamJunkScore: z.number().min(-1000).max(1000).default(7).describe('at or above this score the message is flagged as spam and delivered to Junk'),
  antispamQuarantineScore: z.number().min(-1000).max(1000).default(9)
    .describe('at or above this score (the seed\'s "delete") the message is held in quarantine, not delivered; users and admins release or delete it (1000: never)'),
  quarantineRetentionDays: z.number().int().min(1).max(365).default(30).describe('quarantined messages not released are deleted after this many days'),
  quarantineDigestEnabled: z.boolean().default(true).describe('once a day, users with newly quarantined mail get a digest listing it (template quarantineDigest)'),
  antispamRejectScore: z.number().min(-1000).max(1000).default(15).describe('at or above this score the message is refused with 550 5.7.1 (1000: never)'),
  antispamMaxBytes: z.number().int().min(1024).max(100 * MB).default(1 * MB).describe('larger messages are not spam-scanned (X-Spam-Status says so)'),
  antispamDomainOverrides: z
    .record(
      z.string().trim().toLowerCase().regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/, 'keys must be recipient domain names'),
      z.object({
        tagScore: z.number().min(-1000).max(1000).optional(),
        junkScore: z.number().min(-1000).max(1000).optional(),
        quarantineScore: z.number().min(-1000).max(1000).optional(),
        rejectScore: z.number().min(-1000).max(1000).optional(),
      }).strict(),
    )
    .default({})
    .describe('per recipient domain, thresholds over the antispam*Score ones when every recipient of a message is in that domain: {"acme.example": {"junkScore": 4}}'),
  antispamOnSubmission: z.boolean().default(false).describe('spam-score mail from signed-in users (submission ports) too'),
  scannerTimeoutSeconds: z.number().int().min(1).max(600).default(30).describe('how long one scanner may take for one message'),
  scannerFailureAction: z.enum(['defer', 'accept']).default('defer')
    .describe('a scanner down or too slow: answer 451 4.7.1 so the sender retries, or accept with a header saying it was not scanned'),
  // What reading one message's MIME structure (libs/mime) may cost. A message past a limit is never deferred for it:
  // it is delivered whole, its structure read up to the limit (the rest opaque data), unless mimeLimitAction says reject.
  mimeMaxParts: z.number().int().min(10).max(100_000).default(1000).describe('MIME parts read per message; past them the rest of the message is one opaque part'),
  mimeMaxDepth: z.number().int().min(2).max(90).default(50).describe('levels of nested MIME parts read; a multipart on the last level is one opaque part'),
  mimeMaxHeaderBytes: z.number().int().min(4096).max(64 * MB).default(1 * MB).describe('header bytes of one MIME part read for ENVELOPE and BODYSTRUCTURE; the rest is kept, not read'),
  mimeLimitAction: z.enum(['deliver', 'reject']).default('deliver')
    .describe('a message past a MIME limit: deliver it with its structure read up to the limit, or refuse it at DATA with 554 5.6.0'),
  rcptExpansionMaxMembers: z.number().int().min(0).max(100_000).default(200)
    .describe('aliases and groups are expanded at RCPT to refuse what delivery would; a group with more members gets only its posting policy checked'),
  // Sender authentication of MX mail before the final reply to DATA (libs/smtp/src/inbound/checks/dmarc-policy.check.ts).
  mailAuthEnabled: z.boolean().default(true).describe('check SPF, DKIM, DMARC and ARC of incoming MX mail and add Authentication-Results'),
  mailAuthTimeoutSeconds: z.number().int().min(1).max(300).default(20)
    .describe('how long the SPF/DKIM/DMARC/ARC lookups of one message may take after its DATA ends; past it the results are temperror'),
  dnsQueryTimeoutMs: z.number().int().min(100).max(30_000).default(2000).describe('one DNS query of the authentication checks (tried twice)'),
  dnsCacheSeconds: z.number().int().min(0).max(3600).default(60)
    .describe('how long the authentication checks (SPF, DKIM, DMARC, ARC) reuse a DNS answer or "no such record" on a node; concurrent sessions asking the same share one query; 0 asks every time'),
  dmarcEnforce: z.boolean().default(true)
    .describe('apply the sender domain\'s DMARC policy: reject → 550 5.7.1, quarantine → Junk (off: results are only recorded)'),
  dmarcPolicyOverrides: z
    .record(z.string().trim().toLowerCase().regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/, 'keys must be sender (From:) domain names'), z.enum(['none', 'quarantine', 'reject']))
    .default({})
    .describe('per From: domain (exact, then organisational), the policy applied instead of the published one: {"partner.example": "none"}'),
  dmarcTempErrorAction: z.enum(['accept', 'defer']).default('accept')
    .describe('DMARC could not be checked (DNS failing or too slow): deliver with dmarc=temperror, or answer 451 4.7.5 so the sender retries'),
  arcTrustedSealers: z.array(z.string().trim().toLowerCase().regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/, 'must be a domain name')).max(1000).default([])
    .describe('forwarders (ARC-Seal d= domains) whose passing ARC chain with dmarc=pass excuses a DMARC failure (mailing lists, forwarding services)'),
  // Reputation checks of MX clients (libs/smtp/src/inbound/checks/dns-list.check.ts, client-identity.check.ts,
  // greylist.check.ts): each adds its weight to the message's spam score or refuses outright; signed-in users are exempt.
  dnsLists: z
    .array(
      z.object({
        zone: z.string().trim().toLowerCase().regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/, 'must be a DNS list zone like zen.spamhaus.org'),
        type: z.enum(['ip', 'domain']).default('ip').describe('ip: the client address is looked up (DNSBL/DNSWL); domain: the sender domain (RHSBL)'),
        action: z.enum(['score', 'reject', 'allow']).default('score')
          .describe('score: add the weight; reject: refuse (554 at connect for ip lists, 550 at MAIL for domain lists) naming the list; allow: an allowlist (exempt from greylisting and the other lists\' refusals; its weight, usually negative, is added)'),
        weight: z.number().min(-100).max(100).default(3),
        /** Only these answers count (e.g. 127.0.0.2); empty: any 127.0.0.0/8 answer. */
        answers: z.array(z.string().trim().regex(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'answers are 127.x.y.z addresses')).max(32).default([]),
      }),
    )
    .max(50)
    .default([])
    .describe('DNS block and allow lists checked through DNS_SERVERS: [{"zone":"zen.spamhaus.org","type":"ip","action":"reject"},{"zone":"dbl.example","type":"domain","weight":4}]'),
  dnsListCacheSeconds: z.number().int().min(0).max(86_400).default(300).describe('how long a DNS list answer is kept per node'),
  heloBareIpAction: z.enum(['reject', 'score', 'off']).default('off').describe('HELO/EHLO is an address literal or bare IP instead of a host name'),
  heloBareIpScore: z.number().min(0).max(100).default(1.5),
  heloNotFqdnAction: z.enum(['reject', 'score', 'off']).default('off').describe('HELO/EHLO is not a fully-qualified domain name (no dot)'),
  heloNotFqdnScore: z.number().min(0).max(100).default(1),
  reverseDnsMissingAction: z.enum(['reject', 'score', 'off']).default('off').describe('the client address has no PTR record'),
  reverseDnsMissingScore: z.number().min(0).max(100).default(1.5),
  reverseDnsMismatchAction: z.enum(['reject', 'score', 'off']).default('off').describe('no name of the PTR record resolves back to the client address'),
  reverseDnsMismatchScore: z.number().min(0).max(100).default(1),
  autoWhitelistEnabled: z.boolean().default(true)
    .describe('addresses a user wrote to (submission, webmail) are trusted for that user: their mail is never tagged, put in Junk or greylisted (a score at the reject threshold is still refused)'),
  greylistEnabled: z.boolean().default(false).describe('answer 451 4.7.1 to the first attempt of each (client network, sender, recipient) triplet'),
  greylistDelaySeconds: z.number().int().min(0).max(86_400).default(300).describe('a retry is accepted only this long after the first attempt'),
  greylistRetryWindowHours: z.number().int().min(1).max(24 * 30).default(48).describe('a triplet not retried within this time is forgotten'),
  greylistPassDays: z.number().int().min(1).max(365).default(35).describe('a triplet that passed is accepted at once for this many days after its last message'),
  greylistAutoPassAfter: z.number().int().min(0).max(10_000).default(5).describe('a client network with this many passed triplets is no longer greylisted (0: never)'),
});

export type SmtpSettings = z.infer<typeof smtpSettings>;
export const DEFAULT_SMTP_SETTINGS: SmtpSettings = smtpSettings.parse({});
