/** Folders of the message store as JMAP Mailbox objects (RFC 8621 §2). */
import { FOLDER_DELIMITER, INBOX, type Folder, type SpecialUse } from '@dizi/mail-store/ports/message-store';

export const MAILBOX_PROPERTIES = [
  'id', 'name', 'parentId', 'role', 'sortOrder', 'totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads', 'myRights', 'isSubscribed',
] as const;

/** IANA JMAP mailbox roles (RFC 8621 §10.5) of the SPECIAL-USE folders; the Virus folder has no registered role. */
const ROLE_OF: Record<SpecialUse, string | null> = { inbox: 'inbox', sent: 'sent', drafts: 'drafts', trash: 'trash', junk: 'junk', virus: null };
export const SPECIAL_USE_OF_ROLE: Record<string, SpecialUse> = { inbox: 'inbox', sent: 'sent', drafts: 'drafts', trash: 'trash', junk: 'junk' };
const SORT_ORDER: Record<string, number> = { inbox: 1, drafts: 2, sent: 3, junk: 4, trash: 5 };

export function roleOf(folder: Folder): string | null {
  if (folder.name === INBOX) return 'inbox';
  return folder.specialUse ? ROLE_OF[folder.specialUse] : null;
}

export function leafName(name: string): string {
  const i = name.lastIndexOf(FOLDER_DELIMITER);
  return i < 0 ? name : name.slice(i + 1);
}

export function parentName(name: string): string | null {
  const i = name.lastIndexOf(FOLDER_DELIMITER);
  return i < 0 ? null : name.slice(0, i);
}

/** Thread counts are not kept per folder: they are given as the email counts (too high when a folder holds several emails of one thread). */
export function toMailbox(folder: Folder, byName: Map<string, Folder>): Record<string, unknown> {
  const parent = parentName(folder.name);
  const role = roleOf(folder);
  const isInbox = folder.name === INBOX;
  return {
    id: folder.id,
    name: leafName(folder.name),
    parentId: parent ? byName.get(parent)?.id ?? null : null,
    role,
    sortOrder: role ? SORT_ORDER[role] ?? 10 : 10,
    totalEmails: folder.messageCount,
    unreadEmails: folder.unseenCount,
    totalThreads: folder.messageCount,
    unreadThreads: folder.unseenCount,
    myRights: {
      mayReadItems: true, mayAddItems: true, mayRemoveItems: true, maySetSeen: true, maySetKeywords: true,
      mayCreateChild: true, mayRename: !isInbox, mayDelete: !isInbox, maySubmit: true,
    },
    isSubscribed: folder.subscribed,
  };
}

export function pick(object: Record<string, unknown>, properties: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of properties) if (p in object) out[p] = object[p];
  return out;
}
