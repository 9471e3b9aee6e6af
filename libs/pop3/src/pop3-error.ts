// Errors that carry their POP3 answer (RFC 2449 / RFC 3206 response codes); the dispatcher maps them, and the store's, once.
import { MailStoreError, MessageNotFoundError } from '@dizi/mail-store/ports/message-store';

/** Extended response codes this server sends (RESP-CODES, AUTH-RESP-CODE). */
export type Pop3ResponseCode = 'IN-USE' | 'AUTH' | 'SYS/TEMP' | 'SYS/PERM' | 'LOGIN-DELAY';

export class Pop3Error extends Error {
  constructor(
    readonly text: string,
    readonly code?: Pop3ResponseCode,
    /** A malformed or unknown command: counts towards the bad-command limit. */
    readonly badCommand = false,
  ) {
    super(text);
    this.name = 'Pop3Error';
  }
}

export const refuse = (text: string, code?: Pop3ResponseCode) => new Pop3Error(text, code);
export const badCommand = (text: string) => new Pop3Error(text, undefined, true);

/** The one place where storage errors become wire answers. */
export function toPop3Error(err: unknown): Pop3Error | null {
  if (err instanceof Pop3Error) return err;
  // Another session (IMAP, webmail) expunged it after this maildrop was listed.
  if (err instanceof MessageNotFoundError) return refuse('Message was removed by another session', 'SYS/PERM');
  if (err instanceof MailStoreError) return refuse(`Mailbox is temporarily unavailable: ${err.message}`, 'SYS/TEMP');
  return null;
}

export function formatError(err: Pop3Error): string {
  return `-ERR ${err.code ? `[${err.code}] ` : ''}${err.text}\r\n`;
}
