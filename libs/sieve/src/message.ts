/** What the interpreter reads (the message, its envelope, the caller's services) and what it returns (actions). */
import type { SieveScript } from './ast';
import type { SieveLimits } from './settings';

export interface SieveHeaderField {
  name: string;
  /** Unfolded, with RFC 2047 encoded-words decoded (RFC 5228 §2.7.2). */
  value: string;
}

export type BodyTransform = { kind: 'raw' } | { kind: 'text' } | { kind: 'content'; types: string[] };

export interface SieveMessage {
  headers: readonly SieveHeaderField[];
  /** Size in octets (RFC 5228 §5.9). */
  size: number;
  envelope: {
    /** Reverse path without brackets; "" for the null sender. */
    from: string;
    /** The recipient this run is for. */
    to: string;
    /** The authenticated submitter, when known. */
    auth?: string;
  };
  /**
   * The body as RFC 5173 asks: :raw the undecoded body, :text the decoded text parts, :content the decoded parts whose
   * Content-Type matches (a type "text" matches "text/*"; "" matches every part). Absent: a body test is a runtime error.
   */
  body?: (transform: BodyTransform) => string[];
}

export type IncludeLocation = 'personal' | 'global';

export interface DuplicateCheck {
  /** The unique id tracked (Message-ID, a header, or :uniqueid). */
  id: string;
  handle: string;
  /** Seconds the id is remembered (:seconds), when the script said. */
  seconds?: number;
  /** :last: the expiry restarts on every match. */
  last: boolean;
}

export interface SieveEnvironment {
  limits?: Partial<SieveLimits>;
  /** Extensions offered to included scripts (default: all but editheader). */
  extensions?: readonly string[];
  /** The clock for currentdate; injectable so tests do not depend on the day they run. */
  now?: () => Date;
  /** The local zone for date tests without :zone, as "+hhmm". Default "+0000". */
  zone?: string;
  /** RFC 5233 separator between user and detail. Default "+". */
  subaddressSeparator?: string;
  /** All addresses of the recipient (vacation replies only to mail sent to one of them). */
  userAddresses?: readonly string[];
  mailboxExists?: (name: string) => boolean;
  /** True when the id was seen before under the handle. The caller records ids from `result.duplicates` once delivery succeeds. */
  duplicate?: (check: DuplicateCheck) => boolean;
  /** Loads an included script (text or already parsed); null when it does not exist. */
  loadScript?: (name: string, location: IncludeLocation) => string | SieveScript | null;
}

export type SieveAction =
  | { type: 'keep'; flags: string[]; implicit: boolean }
  | { type: 'fileinto'; mailbox: string; flags: string[]; create: boolean; copy: boolean }
  | { type: 'redirect'; address: string; copy: boolean }
  | { type: 'reject'; reason: string; extended: boolean }
  | {
      type: 'vacation';
      /** Where the reply goes (the envelope sender). */
      to: string;
      reason: string;
      subject: string;
      from?: string;
      mime: boolean;
      handle: string;
      /** How long to wait before answering the same sender again (RFC 5230 :days, or :seconds). */
      periodSeconds: number;
    };

export interface SieveResult {
  actions: SieveAction[];
  /** Runtime errors: when there is one, `actions` is the implicit keep alone, so the message is never lost. */
  errors: string[];
  /** The header fields as editheader left them, when a script changed them. */
  headers?: SieveHeaderField[];
  /** Ids the duplicate test looked up, for the caller to record once the message is delivered. */
  duplicates: DuplicateCheck[];
  /** Why an action was left out (vacation not sent to a list, ...), for the delivery log. */
  notes: string[];
  /** The script ended with `stop` (the caller decides whether later scripts of other levels still run). */
  stopped: boolean;
}
