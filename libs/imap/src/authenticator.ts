// The port through which the IMAP server checks credentials; the mail node wires it to MailboxLogin('imap').

export interface LoginRequest {
  username: string;
  password: string;
  remoteAddress: string;
  secure: boolean;
}

export type LoginVerdict =
  | { ok: true; mailboxId: string; username: string }
  /** `code` is the response code to answer with: AUTHENTICATIONFAILED, UNAVAILABLE, CONTACTADMIN... */
  | { ok: false; code: string; text: string };

export interface Authenticator {
  login(request: LoginRequest): Promise<LoginVerdict>;
}
