// Errors that carry their IMAP answer; the dispatcher maps them, and the mail-store's, once.
import { BlobTooLargeError } from '@dizi/mail-store/ports/blob-store';
import { MailStoreError } from '@dizi/mail-store/ports/message-store';

export type ImapStatus = 'NO' | 'BAD';

export class ImapError extends Error {
  constructor(readonly status: ImapStatus, readonly text: string, readonly code?: string) {
    super(text);
    this.name = 'ImapError';
  }
}

export const bad = (text: string, code?: string) => new ImapError('BAD', text, code);
export const no = (text: string, code?: string) => new ImapError('NO', text, code);

/** The one place where storage errors become wire answers. */
export function toImapError(err: unknown): ImapError | null {
  if (err instanceof ImapError) return err;
  if (err instanceof BlobTooLargeError) return no(err.message, 'TOOBIG');
  if (err instanceof MailStoreError) {
    const code = (err as MailStoreError & { imapCode?: string }).imapCode;
    if (err.code === 'FOLDER_NOT_FOUND') return no('Mailbox does not exist', 'NONEXISTENT');
    return no(err.message, code);
  }
  return null;
}
