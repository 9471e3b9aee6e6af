import { FolderNotFoundError } from '@dizi/mail-store/ports/message-store';
import { defineCommand, SELECTED } from '../command';
import { no } from '../imap-error';
import { formatOrderedSet, type SequenceSet } from '../parser/sequence-set';
import type { Session } from '../session';
import { toRanges } from './fetch.command';

export async function targetFolder(session: Session, name: string) {
  try {
    return await session.store.getFolder(session.mailboxId!, { name });
  } catch (err) {
    if (err instanceof FolderNotFoundError) throw no('Mailbox does not exist', 'TRYCREATE');
    throw err;
  }
}

export const copyCommand = defineCommand({
  name: 'COPY',
  uidVariant: true,
  states: SELECTED,
  args: ['seqset', 'mailbox'],
  async handle({ session, uid }, [set, name]) {
    const sel = session.requireSelected();
    const target = await targetFolder(session, name as string);
    const uids = session.resolveSet(set as SequenceSet, uid).filter((u) => !sel.pendingExpunge.has(u));
    if (uids.length === 0) return uid ? undefined : 'No messages copied';
    const result = await session.store.copy(sel.folder.id, toRanges(uids), target.id, { enforceQuota: true });
    if (target.id === sel.folder.id) sel.dirty = true;
    if (result.map.length === 0) return;
    return `[COPYUID ${result.uidValidity} ${formatOrderedSet(result.map.map((m) => m.sourceUid))} ${formatOrderedSet(result.map.map((m) => m.targetUid))}] Copy completed`;
  },
});
