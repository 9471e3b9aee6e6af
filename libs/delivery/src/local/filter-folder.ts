/**
 * Where local delivery files a message the content filter marked (spool_message.filter_folder): each mailbox's
 * special-use Junk or Virus folder, found by its special use so a renamed folder still gets it. A mailbox without
 * one gets the copy in INBOX (the X-Spam-* / X-Virus-* headers still say what it is) rather than none at all.
 */
import type { FolderRef } from '@dizi/mail-store/ports/message-store';
import type { DirectoryStore } from '../ports/directory-store';
import type { FilterFolder } from '../ports/spool-store';

export type { FilterFolder } from '../ports/spool-store';

/** mailbox id → folder, for the mailboxes that have the special-use folder; empty when nothing is to be filed. */
export async function filterFolders(
  directory: Pick<DirectoryStore, 'specialUseFolders'>, folder: FilterFolder | null, mailboxIds: string[],
): Promise<Map<string, FolderRef>> {
  if (!folder || mailboxIds.length === 0) return new Map();
  const found = await directory.specialUseFolders(mailboxIds, folder);
  return new Map([...found].map(([mailboxId, id]) => [mailboxId, { id }]));
}
