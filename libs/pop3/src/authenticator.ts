// The port through which the POP3 server checks credentials (same shape as libs/imap's); the mail node wires it to MailboxLogin('pop3').

export interface LoginRequest {
  username: string;
  password: string;
  remoteAddress: string;
  secure: boolean;
}

export type LoginVerdict =
  | { ok: true; mailboxId: string; username: string }
  /** `code` is the response code to answer with: AUTH for bad credentials, SYS/TEMP when sign-in is paused or broken. */
  | { ok: false; code: 'AUTH' | 'SYS/TEMP' | 'LOGIN-DELAY'; text: string };

export interface Authenticator {
  login(request: LoginRequest): Promise<LoginVerdict>;
}
