// Named limits of the POP3 server, each with its default.

export interface Pop3Settings {
  /** Announced in the greeting and as IMPLEMENTATION in CAPA. */
  serverName: string;
  /** Longest command line, CRLF included (RFC 2449 allows clients 255; SASL responses need more). */
  maxLineBytes: number;
  /** Unknown or malformed commands (and overlong lines) before the connection is closed. */
  maxBadCommands: number;
  /** Failed logins in one connection before it is closed. */
  maxAuthFailures: number;
  /** RFC 1939 §3: the autologout timer must be at least 10 minutes. */
  idleTimeoutMs: number;
  /** Until the client has logged in. */
  preLoginTimeoutMs: number;
  /** USER/PASS and AUTH before STLS on the plain port; off in production (RFC 2595 §2.2). */
  allowInsecureAuth: boolean;
  /**
   * RETR/TOP read a message up to this size whole, and read the next one ahead while the client takes this one;
   * larger ones are streamed. One message ahead per session at most.
   */
  readAheadMaxBytes: number;
}

export const DEFAULT_POP3_SETTINGS: Pop3Settings = {
  serverName: 'Dizi',
  maxLineBytes: 1024,
  maxBadCommands: 10,
  maxAuthFailures: 3,
  idleTimeoutMs: 10 * 60_000,
  preLoginTimeoutMs: 60_000,
  allowInsecureAuth: false,
  readAheadMaxBytes: 1024 * 1024,
};
