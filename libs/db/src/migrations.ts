/** Migrations in order. Explicit files, never `synchronize` (STYLE.md). */
import { Foundation1764201600000 } from './migrations/1764201600000-foundation';
import { AddressBookIndexes1764201800000 } from './migrations/1764201800000-address-book-indexes';
import { MessageStore1764300000000 } from './migrations/1764300000000-message-store';
import { MailFlow1764400000000 } from './migrations/1764400000000-mail-flow';
import { MailboxDefaultFolders1764450000000 } from './migrations/1764450000000-mailbox-default-folders';
import { FolderSubscription1764500000000 } from './migrations/1764500000000-folder-subscription';
import { MailboxDirectoryVersion1764600000000 } from './migrations/1764600000000-mailbox-directory-version';

export const MIGRATIONS = [Foundation1764201600000, AddressBookIndexes1764201800000, MessageStore1764300000000, MailFlow1764400000000, MailboxDefaultFolders1764450000000, FolderSubscription1764500000000, MailboxDirectoryVersion1764600000000];
