// The INBOX as this session listed it at login: message numbers stay fixed and deletions are only marks until QUIT.
import type { Folder, MessageRecord } from '@dizi/mail-store/ports/message-store';
import { refuse } from './pop3-error';

export interface MaildropMessage {
  /** 1-based message number of this session. */
  number: number;
  id: string;
  uid: number;
  /** Octets as served (header prefix + blob), before byte-stuffing. */
  size: number;
  deleted: boolean;
  /** RETR or TOP served it: flagged \Seen at QUIT. */
  retrieved: boolean;
}

export class Maildrop {
  readonly messages: MaildropMessage[];

  constructor(readonly folder: Folder, records: MessageRecord[]) {
    this.messages = [...records]
      .sort((a, b) => a.uid - b.uid)
      .map((r, i) => ({ number: i + 1, id: r.id, uid: r.uid, size: r.size, deleted: false, retrieved: false }));
  }

  /** A message number the client may still use; deleted ones are gone for the session (RFC 1939 §5). */
  get(number: number): MaildropMessage {
    const m = this.messages[number - 1];
    if (!m || m.deleted) throw refuse(m ? `Message ${number} is already deleted` : `There is no message ${number}`);
    return m;
  }

  live(): MaildropMessage[] {
    return this.messages.filter((m) => !m.deleted);
  }

  /** RFC 1939 UIDL: stable across sessions as long as the folder's UIDVALIDITY holds. */
  uniqueId(m: MaildropMessage): string {
    return `${this.folder.uidValidity}.${m.uid}`;
  }

  totals(): { count: number; octets: number } {
    const live = this.live();
    return { count: live.length, octets: live.reduce((sum, m) => sum + m.size, 0) };
  }
}
