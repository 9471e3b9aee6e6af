/** What a JMAP method is given and what it returns; each method is one file under methods/. */
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { JmapLimits } from './limits';
import type { JmapIdentities } from './identities';
import type { JmapSender } from './submissions';
import type { JmapUploads } from './uploads';
import type { JmapVacation } from './vacation';

/** The one account a signed-in mailbox user sees: their mailbox. */
export interface JmapAccount {
  accountId: string;
  mailboxId: string;
  /** The mailbox address, shown as the account name and session username. */
  name: string;
}

export interface MethodContext {
  account: JmapAccount;
  store: MessageStore;
  limits: JmapLimits;
  /** Creation ids of this request (`#name` references in /set ids) to the ids they became. */
  createdIds: Map<string, string>;
  /** Blobs the account uploaded (RFC 8620 §6.1). */
  uploads?: JmapUploads;
  /** The addresses the user may send as (Identity/get). */
  identities?: JmapIdentities;
  /** Sends for EmailSubmission/set. */
  sender?: JmapSender;
  /** The mailbox's auto-reply (VacationResponse). */
  vacation?: JmapVacation;
  /** Implicit responses (RFC 8620 §5.3 onSuccess…) to follow the running method's, with its call id. */
  followUps?: Array<[string, Args]>;
}

export type Args = Record<string, unknown>;

export interface JmapMethod {
  name: string;
  /** The capability a request must name in `using` for the method to be known. */
  capability: string;
  run(args: Args, ctx: MethodContext): Promise<Args>;
}
