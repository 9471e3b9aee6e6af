/** Limits of a ManageSieve session, each a named setting with its default. */
export interface ManageSieveSettings {
  /** Before AUTHENTICATE succeeds. */
  preLoginTimeoutMs: number;
  /** Signed in, between commands (RFC 5804 does not say; Dovecot uses 30 minutes). */
  idleTimeoutMs: number;
  /** Longest command line outside literals. */
  maxLineBytes: number;
  /** Commands that failed to parse or were unknown before the session is closed. */
  maxBadCommands: number;
  /** A literal bigger than this (over the script size limit) closes the connection instead of being read and refused. */
  maxLiteralBytes: number;
  /** IMPLEMENTATION capability. */
  implementation: string;
}

export const DEFAULT_MANAGESIEVE_SETTINGS: ManageSieveSettings = {
  preLoginTimeoutMs: 60_000,
  idleTimeoutMs: 30 * 60_000,
  maxLineBytes: 8 * 1024,
  maxBadCommands: 10,
  maxLiteralBytes: 4 * 1024 * 1024,
  implementation: 'Dizi ManageSieve',
};
