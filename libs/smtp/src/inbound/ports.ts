/**
 * What the inbound SMTP listeners need from the rest of the system. Adapters (PostgreSQL, Redis,
 * BullMQ) live in libs/delivery/src/adapters (postgres/, redis/, dns/); in-memory ones drive the unit specs.
 */
import type { Readable } from 'node:stream';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { SpooledContent } from './content/content-scanner';

/** The operators' settings as they are now; they change at runtime, so read them per session or command. */
export interface SettingsProvider {
  readonly smtp: SmtpSettings;
}

export interface ConnectionLimits {
  perMinute: number;
  concurrent: number;
}

export type Admission = { admitted: true; release(): Promise<void> } | { admitted: false; reason: 'rate' | 'concurrent' };

/** Counts connections per client IP across every node; `release` is called exactly once when an admitted connection ends. */
export interface ConnectionLimiter {
  admit(ip: string, limits: ConnectionLimits): Promise<Admission>;
}

/**
 * Client addresses that waited for the greeting once (postscreen's pregreet test), remembered across nodes: they are
 * greeted at once afterwards. Failures are the caller's to log; a lookup that fails counts as not passed.
 */
export interface GreetingPassList {
  passed(ip: string): Promise<boolean>;
  remember(ip: string, ttlSeconds: number): Promise<void>;
}

/** The mailbox a session signed in as. */
export interface AuthenticatedUser {
  mailboxId: string;
  address: string;
  tenantId: string;
  domainId: string;
  domain: string;
  /** The mailbox may send outside and its domain is not local-only: it may relay to remote domains. */
  mayRelay: boolean;
}

export type AuthOutcome =
  | { ok: true; user: AuthenticatedUser }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterMs: number };

/** Checks a mailbox password for SMTP AUTH (shared throttle, protocol switch, account status). */
export interface Authenticator {
  authenticate(username: string, password: string, clientIp: string): Promise<AuthOutcome>;
  /** The stored form of a login name (`alice` → `alice@default.test`), to compare an authorisation identity with. */
  resolveLogin(username: string): Promise<string>;
}

export type RecipientTarget = 'mailbox' | 'alias' | 'catch-all' | 'group';

/**
 * Why a local address takes no mail; every reason is answered the same way so nothing is revealed, except
 * `tenant-unpaid` (billing suspended the tenant until it pays): a temporary refusal, so senders retry.
 */
export type UnavailableReason = 'unknown-user' | 'domain-disabled' | 'smtp-disabled' | 'tenant-suspended' | 'tenant-unpaid' | 'mailbox-suspended';

export type RecipientResolution =
  | { kind: 'remote'; address: string; domain: string }
  | {
      kind: 'local';
      target: RecipientTarget;
      address: string;
      domain: string;
      tenantId: string;
      /** Set for target `mailbox` (quota is only known for a mailbox itself; aliases and groups are expanded later). */
      mailbox?: { id: string; quotaBytes: number; usedBytes: number };
    }
  | { kind: 'unavailable'; address: string; domain: string; reason: UnavailableReason };

/**
 * `local`: the address is in a domain hosted here. `owned`: mailbox `mailboxId` may send as it — its own address,
 * an alias delivering to it, or a "send as" identity a domain admin granted it (table mailbox_send_as).
 */
export interface SenderResolution {
  local: boolean;
  owned: boolean;
}

/** Who sends, as the RCPT-time expansion of aliases and groups needs it (group posting policies). */
export interface ExpansionSender {
  /** Envelope sender, stored form; '' for the null sender. */
  address: string;
  /** Signed in on a submission port. */
  authenticated: boolean;
}

/** What an alias, group or catch-all would deliver to, as delivery would expand it now. */
export interface RecipientExpansion {
  /** Local mailboxes that would keep a copy, with their quota. */
  mailboxes: Array<{ address: string; quotaBytes: number; usedBytes: number }>;
  /** Remote addresses it goes on to. */
  remotes: number;
  /** Destinations delivery would fail, with the RFC 3463 code it would give (5.7.1: group posting policy). */
  failures: Array<{ address: string; status: string; reason: string }>;
  /** A group larger than the limit: only its posting policy was decided, its members were not walked. */
  partial?: boolean;
}

export interface RecipientDirectory {
  /** `address` is in its stored form (lower case, ASCII domain). */
  resolveRecipient(address: string): Promise<RecipientResolution>;
  /**
   * Whether `address` is in a domain hosted here, and whether mailbox `mailboxId` owns it (its own address, an
   * alias whose destinations include it, or a granted "send as" identity). `mailboxId` null: nobody signed in.
   */
  resolveSender(address: string, mailboxId: string | null): Promise<SenderResolution>;
  /**
   * The expansion of a local alias, group or catch-all address for this sender, so that what delivery would refuse
   * is refused at RCPT instead of bounced after 250 (backscatter).
   */
  expandRecipient(address: string, sender: ExpansionSender, limits: { maxGroupMembers: number }): Promise<RecipientExpansion>;
  /** Today's messages and the daily limit (mailbox's, else its domain's; null = unlimited). */
  sendAllowance(mailboxId: string): Promise<{ limit: number | null; sentToday: number }>;
}

/** Whether a sender domain can receive mail (MX, else A/AAAA). `unknown`: DNS failed, try later. */
export interface DomainResolver {
  hasMailHost(domain: string): Promise<'yes' | 'no' | 'unknown'>;
}

export interface SpoolRecipient {
  address: string;
  kind: 'local' | 'remote';
  domain: string;
  tenantId: string | null;
  /** RFC 3461 NOTIFY and ORCPT, when the client gave them. */
  dsnNotify: string | null;
  originalAddress: string | null;
}

export interface SpoolRequest {
  /** Chosen by the listener (it appears in our Received header); becomes spool_message.id. */
  id: string;
  source: 'smtp' | 'submission';
  sessionId: string;
  clientIp: string;
  helo: string;
  /** Empty for the null sender. */
  mailFrom: string;
  authMailboxId: string | null;
  recipients: SpoolRecipient[];
  /** The content stream fails once it passes this many bytes. */
  maxBytes: number;
  envId: string | null;
  dsnRet: 'FULL' | 'HDRS' | null;
  /**
   * Held until then (JMAP sendAt, SMTP FUTURERELEASE): the recipients are due at this time, not now, and the receipt's
   * enqueue does nothing; the sweeper hands them to the queues once it has passed. Absent or past: at once.
   */
  releaseAt?: Date | null;
  /**
   * The content filter (content/screen-message.ts): called once the content is durable and before anything is
   * committed. Resolves with what delivery adds (stored with the message), or throws — an SmtpReplyError, or a
   * DiscardedMessage — and then nothing is committed.
   */
  screen?: (content: SpooledContent) => Promise<SpoolMarks | null>;
}

/** The content filter's findings, kept with the spooled message for local delivery. */
export interface SpoolMarks {
  /** Header lines (X-Virus-*, X-Spam-*) prefixed to every delivered copy, each ending in CRLF. */
  headers: string;
  /** Deliver to this special-use folder instead of INBOX. */
  folder: 'junk' | 'virus' | null;
  spamScore: number | null;
  /** Held in quarantine instead of delivered (a virus under antivirusAction `quarantine`, spam from antispamQuarantineScore). */
  quarantine?: Quarantined | null;
}

export interface Quarantined {
  reason: 'spam' | 'virus';
  /** The signature, or `score 12.3`. */
  detail: string;
}

export interface SpoolReceipt {
  id: string;
  size: number;
  /** Called after the 250 went out; hands the committed work to the queues. Never throws. */
  enqueue(): Promise<void>;
}

/**
 * Stores a message durably: when `spool` resolves, the content is fsync'd and the message and
 * recipient rows are committed, so 250 may be answered. If `content` errors, nothing is committed.
 * An error with `smtpCode` 552 means the content was too large.
 */
export interface SpoolWriter {
  spool(request: SpoolRequest, content: Readable): Promise<SpoolReceipt>;
}

export interface SessionLogEntry {
  level: 'info' | 'warn' | 'error';
  sessionId: string;
  clientIp: string;
  helo: string | null;
  mailFrom: string | null;
  recipients: string[];
  size: number | null;
  /** `accepted`, `rejected`, `refused`, `abandoned`, `closed`. */
  result: string;
  reason: string;
  messageId: string | null;
  tenantId: string | null;
}

/** Structured session records (mail_log kind `session`). Fire and forget: failures are the log's to report. */
export interface SessionLog {
  record(entry: SessionLogEntry): void;
}

/** The subset of pino the listeners use. */
export interface InboundLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/**
 * DNS lookups of the reputation checks (DNS lists, reverse DNS), through the configured resolver and cached by the
 * adapter. `unknown`: DNS failed or timed out; the checks then decide nothing.
 */
export interface ReputationResolver {
  /** A (or with `family` 6, AAAA) records of `name`; [] when there are none (NXDOMAIN, NODATA). */
  addresses(name: string, cacheSeconds: number, family?: 4 | 6): Promise<string[] | 'unknown'>;
  /** PTR names of `ip`; [] when there is none. */
  reverse(ip: string, cacheSeconds: number): Promise<string[] | 'unknown'>;
}

/** Greylisting's memory of (client network, sender, recipient) triplets, shared by every node. */
export interface GreylistStore {
  /**
   * Records an attempt of `triplet` from `network` at `now` (ms) and says whether it passes: a triplet first seen
   * at least `delayMs` ago (and retried within `retryWindowMs`), one that passed before (within `passMs`), or any
   * triplet of a network that passed `autoPassAfter` triplets (0: never) within `passMs`.
   */
  attempt(o: { triplet: string; network: string; now: number; delayMs: number; retryWindowMs: number; passMs: number; autoPassAfter: number }):
    Promise<{ pass: boolean; reason: 'new' | 'early' | 'delayed' | 'known' | 'network'; waitMs: number }>;
}

/** The automatic whitelist: addresses each mailbox has written to (through submission) are trusted by it. */
export interface TrustedSenders {
  /** Of `recipients` (stored form, mailbox addresses), those whose mailbox has written to `sender`. Failures throw. */
  trustedBy(sender: string, recipients: string[]): Promise<string[]>;
}
