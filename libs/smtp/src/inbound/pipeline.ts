/**
 * The inbound policy pipeline (ARCHITECTURE.md "Inbound mail, step by step"): the checks of each SMTP
 * stage in the order they run. This file is the only place the order is written down.
 *
 *   connect  client-address → connection-rate → dns-list
 *   AUTH     auth-failures → credentials            (submission ports only; see auth.ts)
 *   MAIL     helo-name → null-sender → sender-login → sender-blocklist → declared-size → local-sender → sender-domain
 *            → daily-send-limit → client-identity → sender-domain-list
 *   RCPT     recipient-count → srs-bounce → relay → recipient-exists → recipient-quota → recipient-expansion → greylist
 *   DATA     while streaming (data/message-scanner.ts): NUL / bare CR → size → hop count; then (data/header-filter.ts)
 *            incoming Authentication-Results claiming our authserv-id and X-Spam-* fields are removed; MX mail is
 *            read by the SPF/DKIM/DMARC/ARC checks (content/message-auth.ts) as it streams; session deadline and
 *            minimum data rate are watched by the listener
 *   content  once the message is spooled and before anything is committed (content/screen-message.ts), on the
 *            header, the authentication report and the scanners' report:
 *            from-header → dmarc-policy → virus-scan → spam-score
 *
 * Before and around the stages, in the listener (inbound-server.ts): the port-25 greeting wait for clients not seen
 * waiting before (early talkers get 421), the command-line length limit (500 5.5.2) and the junk-command count (421).
 *
 * smtp-server offers no EHLO hook, so the EHLO check runs with the first MAIL FROM of a transaction.
 * A stage ends at the first verdict that is not `continue`; running off the end accepts.
 */
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { authFailuresCheck } from './checks/auth-failures.check';
import { clientAddressCheck } from './checks/client-address.check';
import { connectionRateCheck } from './checks/connection-rate.check';
import { credentialsCheck } from './checks/credentials.check';
import { dailySendLimitCheck } from './checks/daily-send-limit.check';
import { declaredSizeCheck } from './checks/declared-size.check';
import { heloNameCheck } from './checks/helo-name.check';
import { localSenderCheck } from './checks/local-sender.check';
import { nullSenderCheck } from './checks/null-sender.check';
import { recipientCountCheck } from './checks/recipient-count.check';
import { recipientExistsCheck } from './checks/recipient-exists.check';
import { recipientQuotaCheck } from './checks/recipient-quota.check';
import { relayCheck } from './checks/relay.check';
import { senderBlocklistCheck } from './checks/sender-blocklist.check';
import { senderDomainCheck } from './checks/sender-domain.check';
import { senderLoginCheck } from './checks/sender-login.check';
import { fromHeaderCheck } from './checks/from-header.check';
import { dmarcPolicyCheck } from './checks/dmarc-policy.check';
import { recipientExpansionCheck } from './checks/recipient-expansion.check';
import type { MessageAuthReport } from './content/message-auth';
import { spamScoreCheck } from './checks/spam-score.check';
import { virusScanCheck } from './checks/virus-scan.check';
import type { ContentScanReport } from './content/content-scanner';
import { srsBounceCheck } from './checks/srs-bounce.check';
import { clientIdentityCheck } from './checks/client-identity.check';
import { dnsListCheck } from './checks/dns-list.check';
import { greylistCheck } from './checks/greylist.check';
import { senderDomainListCheck } from './checks/sender-domain-list.check';
import type {
  AuthenticatedUser, Authenticator, ConnectionLimiter, DomainResolver, GreylistStore, RecipientDirectory, RecipientResolution, ReputationResolver,
  Quarantined, TrustedSenders,
} from './ports';
import type { InboundSession } from './session';
import type { Srs } from '../srs/srs';
import { ACCEPT, Verdict } from './verdict';

export interface PolicyDeps {
  directory: RecipientDirectory;
  limiter: ConnectionLimiter;
  authenticator: Authenticator;
  resolver: DomainResolver;
  /** Our host name (Received, greeting); a client claiming it in HELO is lying. */
  hostname: string;
  /** Base pause after a failed AUTH, multiplied by the session's failure count. */
  authFailureDelayMs: number;
  /** Pause per unknown recipient beyond the allowance (grows with each one). */
  tarpitStepMs: number;
  /** Turns bounces to our SRS addresses back into the original sender; none: SRS addresses are ordinary ones. */
  srs?: Srs;
  /** DNS lists and reverse DNS through the configured resolver; none: those checks are skipped. */
  reputation?: ReputationResolver;
  /** Greylisting triplets; none: no greylisting whatever the settings say. */
  greylist?: GreylistStore;
  /** The clock greylisting reads (tests move it instead of waiting). */
  now?: () => number;
  /** The automatic whitelist; none: nobody is trusted. */
  trust?: TrustedSenders;
}

export interface StageInput {
  session: InboundSession;
  settings: SmtpSettings;
  deps: PolicyDeps;
}

export type ConnectInput = StageInput;

export interface AuthInput extends StageInput {
  username: string;
  password: string;
  /** RFC 4616 authorisation identity; '' when the client gave none. */
  authzid: string;
  /** Set by the credentials check when the login succeeds. */
  user?: AuthenticatedUser;
}

export interface MailInput extends StageInput {
  /** Stored form; '' is the null sender. */
  sender: string;
  declaredSize: number | null;
}

export interface RcptInput extends StageInput {
  /** Stored form. The srs-bounce check replaces an SRS address of ours with the address it stands for. */
  recipient: string;
  declaredSize: number | null;
  /** Directory lookup, made once per RCPT however many checks ask. */
  resolution(): Promise<RecipientResolution>;
  /** The SRS address the client named, when srs-bounce replaced it. */
  reversedFrom?: string;
}

/** What the content checks decide for delivery, filled in as they run. */
export interface ContentMarks {
  /** Header lines for every delivered copy, each ending in CRLF. */
  headers: string[];
  folder: 'junk' | 'virus' | null;
  spamScore: number | null;
  /** Set (to the signature) when an infected message is to be accepted and dropped. */
  discard: string | null;
  /** Set when the message is to be held in quarantine instead of delivered. */
  quarantine: Quarantined | null;
  /** Short findings for the mail log. */
  notes: string[];
}

/** What DATA learnt of the message's header on the way in (data/header-filter.ts). */
export interface HeaderFacts {
  /** Raw values of the From: fields. */
  from: string[];
  /** A From: value too long to read whole. */
  fromTruncated: boolean;
}

export interface ContentInput extends StageInput {
  report: ContentScanReport;
  marks: ContentMarks;
  header: HeaderFacts;
  /** SPF/DKIM/DMARC/ARC of MX mail; null when not checked (submission, or turned off). */
  auth: MessageAuthReport | null;
  /** [0, 1), for DMARC pct= sampling. */
  random: () => number;
}

export interface Check<I> {
  name: string;
  run(input: I): Verdict | Promise<Verdict>;
}

export const CONNECT_CHECKS: ReadonlyArray<Check<ConnectInput>> = [clientAddressCheck, connectionRateCheck, dnsListCheck];
export const AUTH_CHECKS: ReadonlyArray<Check<AuthInput>> = [authFailuresCheck, credentialsCheck];
export const MAIL_CHECKS: ReadonlyArray<Check<MailInput>> = [
  heloNameCheck, nullSenderCheck, senderLoginCheck, senderBlocklistCheck, declaredSizeCheck, localSenderCheck, senderDomainCheck,
  dailySendLimitCheck, clientIdentityCheck, senderDomainListCheck,
];
export const RCPT_CHECKS: ReadonlyArray<Check<RcptInput>> = [
  recipientCountCheck, srsBounceCheck, relayCheck, recipientExistsCheck, recipientQuotaCheck, recipientExpansionCheck, greylistCheck,
];
/** Who the message claims to be from comes first; then a virus verdict, which decides over any spam score. */
export const CONTENT_CHECKS: ReadonlyArray<Check<ContentInput>> = [fromHeaderCheck, dmarcPolicyCheck, virusScanCheck, spamScoreCheck];

/** Runs one stage's checks in order; the first verdict other than `continue` decides. */
export async function runStage<I>(checks: ReadonlyArray<Check<I>>, input: I): Promise<Verdict & { check?: string }> {
  for (const check of checks) {
    const verdict = await check.run(input);
    if (verdict.kind !== 'continue') return { ...verdict, check: check.name };
  }
  return ACCEPT;
}
