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
}

export function newSession(id: string, listener: ListenerKind, clientIp: string, clientHostname: string, now: number): InboundSession {
  return {
    id, listener, clientIp, clientHostname, helo: '', user: null, authFailures: 0, unknownRecipients: 0,
    startedAt: now, transaction: null, lastRefusal: null, logged: false,
  };
}
