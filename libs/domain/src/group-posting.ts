/** Who may post to a group that works as a mailing list. Pure: the SMTP delivery path and the API share it. */
import { addressMatchesPattern } from './address';

export const POSTING_POLICIES = ['anyone', 'same_domain', 'local', 'authenticated', 'members', 'listed'] as const;
export type PostingPolicy = (typeof POSTING_POLICIES)[number];

export interface PostingGroup {
  address: string;
  postingPolicy: PostingPolicy;
  /** Address patterns (`a@b.test`, `*@b.test`) allowed under the `listed` policy. */
  allowedSenders: readonly string[];
  /** Member address patterns; the `members` policy lets these post. */
  members: readonly string[];
}

export interface Sender {
  /** Envelope sender; empty for the null sender of bounces. */
  address: string;
  /** The message arrived on an authenticated (submission) session. */
  authenticated: boolean;
  /** The sender is a mailbox hosted here. */
  isLocal: boolean;
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

export function mayPost(group: PostingGroup, sender: Sender): boolean {
  if (group.postingPolicy === 'anyone') return true;
  // Bounces (null sender) only reach lists open to anyone, so a list never answers itself in a loop.
  if (!sender.address) return false;
  switch (group.postingPolicy) {
    case 'same_domain':
      return domainOf(sender.address) !== '' && domainOf(sender.address) === domainOf(group.address);
    case 'local':
      return sender.isLocal;
    case 'authenticated':
      return sender.authenticated;
    case 'members':
      return group.members.some((p) => addressMatchesPattern(sender.address, p));
    case 'listed':
      return group.allowedSenders.some((p) => addressMatchesPattern(sender.address, p));
  }
}
