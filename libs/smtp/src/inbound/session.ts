/** What the inbound listener remembers about one SMTP connection, beyond smtp-server's own session. */
import type { AuthenticatedUser, SpoolRecipient } from './ports';

/** inbound MX (no AUTH), submission (STARTTLS then AUTH), submissions (implicit TLS, AUTH). */
export type ListenerKind = 'mx' | 'submission' | 'submissions';

export interface MailTransaction {
  /** Envelope sender in stored form; '' is the null sender. */
  mailFrom: string;
  /** SIZE= from MAIL FROM, when given. */
  declaredSize: number | null;
  recipients: SpoolRecipient[];
  /** `address: reply` of refused RCPTs, for the session log. */
  refused: string[];
}

export interface InboundSession {
  id: string;
  listener: ListenerKind;
  clientIp: string;
  /** Reverse DNS name, or the `[ip]` literal smtp-server uses when there is none. */
  clientHostname: string;
  helo: string;
  user: AuthenticatedUser | null;
  authFailures: number;
  unknownRecipients: number;
  /** ms since the epoch. */
  startedAt: number;
  transaction: MailTransaction | null;
  /** The last refusal, for the log row of a session that sent nothing. */
  lastRefusal: string | null;
  /** A session log row was already written for this connection. */
  logged: boolean;
  release?: () => Promise<void>;
  /** What the reputation checks found (DNS lists, HELO, reverse DNS), added to the spam score of each message. */
  reputation: Reputation;
}

export interface Reputation {
  score: number;
  /** Short findings, `dnsbl:bl.example(+3)`, for the mail log and X-Spam-Status. */
  findings: string[];
  /** On an allowlist (DNSWL): exempt from greylisting and from the DNS lists' refusals. */
  allowListed: boolean;
  /** The HELO/reverse-DNS checks ran for this HELO name (they run once per name, with the first MAIL). */
  identityCheckedFor: string | null;
  /** The client address's PTR was looked up (once per session). */
  reverseChecked: boolean;
  /** Sender domains already looked up on the domain lists, with their score (a session may send several messages). */
  domainScores: Map<string, { score: number; findings: string[] }>;
}

export function newSession(id: string, listener: ListenerKind, clientIp: string, clientHostname: string, now: number): InboundSession {
  return {
    id, listener, clientIp, clientHostname, helo: '', user: null, authFailures: 0, unknownRecipients: 0,
    startedAt: now, transaction: null, lastRefusal: null, logged: false,
    reputation: { score: 0, findings: [], allowListed: false, identityCheckedFor: null, reverseChecked: false, domainScores: new Map() },
  };
}
