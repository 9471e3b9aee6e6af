/** Migrations in order. Explicit files, never `synchronize` (STYLE.md). */
import { Foundation1764201600000 } from './migrations/1764201600000-foundation';
import { AddressBookIndexes1764201800000 } from './migrations/1764201800000-address-book-indexes';
import { MessageStore1764300000000 } from './migrations/1764300000000-message-store';
import { MailFlow1764400000000 } from './migrations/1764400000000-mail-flow';
import { MailboxDefaultFolders1764450000000 } from './migrations/1764450000000-mailbox-default-folders';
import { FolderSubscription1764500000000 } from './migrations/1764500000000-folder-subscription';
import { MailboxDirectoryVersion1764600000000 } from './migrations/1764600000000-mailbox-directory-version';
import { MessageSelectIndexes1764650000000 } from './migrations/1764650000000-message-select-indexes';
import { SpoolRecipientSender1764720000000 } from './migrations/1764720000000-spool-recipient-sender';
import { MessageImapFormat1764800000000 } from './migrations/1764800000000-message-imap-format';
import { SpoolContentFilter1764870000000 } from './migrations/1764870000000-spool-content-filter';
import { MessageSearchKeys1764940000000 } from './migrations/1764940000000-message-search-keys';
import { MailboxSendAs1765100000000 } from './migrations/1765100000000-mailbox-send-as';
import { FolderNameRepair1765300000000 } from './migrations/1765300000000-folder-name-repair';
import { MessageSearchFields1765400000000 } from './migrations/1765400000000-message-search-fields';
import { BlobSearchKeys1765450000000 } from './migrations/1765450000000-blob-search-keys';
import { MailLogDomain1765500000000 } from './migrations/1765500000000-mail-log-domain';
import { MailboxWelcome1765510000000 } from './migrations/1765510000000-mailbox-welcome';
import { TemplatePlaceholderNames1765520000000 } from './migrations/1765520000000-template-placeholder-names';
import { ExpungedMessageId1765600000000 } from './migrations/1765600000000-expunged-message-id';
import { MessageThreadId1765610000000 } from './migrations/1765610000000-message-thread-id';
import { MessageLateHeaders1765650000000 } from './migrations/1765650000000-message-late-headers';
import { QueueHold1765700000000 } from './migrations/1765700000000-queue-hold';
import { DropMessageMailboxIndex1765800000000 } from './migrations/1765800000000-drop-message-mailbox-index';
import { MessageMailboxQueryIndexes1765850000000 } from './migrations/1765850000000-message-mailbox-query-indexes';
import { ExpungedMessageThread1765850000100 } from './migrations/1765850000100-expunged-message-thread';
import { Billing1766000000000 } from './migrations/1766000000000-billing';
import { BillingOutbox1766000100000 } from './migrations/1766000100000-billing-outbox';
import { SieveScripts1766050000000 } from './migrations/1766050000000-sieve-scripts';
import { TrustedSender1766100000000 } from './migrations/1766100000000-trusted-sender';
import { Quarantine1766100100000 } from './migrations/1766100100000-quarantine';
import { MailLogRollup1766150000000 } from './migrations/1766150000000-mail-log-rollup';
import { EmailSubmission1766220000000 } from './migrations/1766220000000-email-submission';
import { IdentityProfile1766230000000 } from './migrations/1766230000000-identity-profile';
import { MailboxPreference1766240000000 } from './migrations/1766240000000-mailbox-preference';

export const MIGRATIONS = [
  Foundation1764201600000,
  AddressBookIndexes1764201800000,
  MessageStore1764300000000,
  MailFlow1764400000000,
  MailboxDefaultFolders1764450000000,
  FolderSubscription1764500000000,
  MailboxDirectoryVersion1764600000000,
  MessageSelectIndexes1764650000000,
  SpoolRecipientSender1764720000000,
  MessageImapFormat1764800000000,
  SpoolContentFilter1764870000000,
  MessageSearchKeys1764940000000,
  MailboxSendAs1765100000000,
  FolderNameRepair1765300000000,
  MessageSearchFields1765400000000,
  BlobSearchKeys1765450000000,
  MailLogDomain1765500000000,
  MailboxWelcome1765510000000,
  TemplatePlaceholderNames1765520000000,
  ExpungedMessageId1765600000000,
  MessageThreadId1765610000000,
  MessageLateHeaders1765650000000,
  QueueHold1765700000000,
  DropMessageMailboxIndex1765800000000,
  MessageMailboxQueryIndexes1765850000000,
  ExpungedMessageThread1765850000100,
  Billing1766000000000,
  BillingOutbox1766000100000,
  SieveScripts1766050000000,
  TrustedSender1766100000000,
  Quarantine1766100100000,
  MailLogRollup1766150000000,
  EmailSubmission1766220000000,
  IdentityProfile1766230000000,
  MailboxPreference1766240000000,
];
