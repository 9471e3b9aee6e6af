/**
 * What the ManageSieve server asks of the mail node: the signed-in mailbox's scripts, logins, and the limits in
 * force. The mail node wires them to PostgreSQL (SieveScriptStore) and MailboxLogin; tests use memory stand-ins.
 */

export interface ScriptEntry {
  name: string;
  active: boolean;
}

/** Errors the store reports, by the ManageSieve response code they map to (RFC 5804 §1.3). */
export class ScriptStoreError extends Error {
  constructor(readonly code: 'NONEXISTENT' | 'ALREADYEXISTS' | 'ACTIVE', message: string) {
    super(message);
    this.name = 'ScriptStoreError';
  }
}

export interface ManageSieveStore {
  /** Sorted by name. */
  list(mailboxId: string): Promise<ScriptEntry[]>;
  get(mailboxId: string, name: string): Promise<string | null>;
  put(mailboxId: string, name: string, content: string): Promise<void>;
  /** null: no script active. NONEXISTENT. */
  setActive(mailboxId: string, name: string | null): Promise<void>;
  /** NONEXISTENT, ALREADYEXISTS. */
  rename(mailboxId: string, from: string, to: string): Promise<void>;
  /** NONEXISTENT, ACTIVE. */
  delete(mailboxId: string, name: string): Promise<void>;
}

export interface ManageSieveLogin {
  username: string;
  password: string;
  remoteAddress: string;
}

export type ManageSieveLoginVerdict =
  | { ok: true; mailboxId: string; username: string }
  /** TRYLATER when sign-in is throttled or broken (RFC 5804 §1.3), else a plain NO. */
  | { ok: false; tryLater: boolean; text: string };

export interface ManageSieveAuthenticator {
  login(request: ManageSieveLogin): Promise<ManageSieveLoginVerdict>;
}

export interface ManageSieveLimits {
  maxScriptSize: number;
  maxScripts: number;
  maxRedirects: number;
}

export type { AdmitConnection, ConnectionAdmission } from '@dizi/listener/listener';
