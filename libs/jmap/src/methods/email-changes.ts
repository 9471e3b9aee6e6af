/**
 * Email/changes (RFC 8621 §4.3): what each folder changed since the MODSEQ the state names (the store's CONDSTORE and
 * QRESYNC data). A message that left one folder and shows in another moved (updated); one that only left was
 * destroyed; one above the folder's old UIDNEXT is new (created). Changes of one MODSEQ are never split across answers.
 */
import type { Folder } from '@dizi/mail-store/ports/message-store';
import { MAIL } from '../capabilities';
import { checkAccount, optionalUnsigned, requiredString } from '../args';
import { MethodError } from '../errors';
import { emailIdOf } from '../email-view';
import type { JmapMethod, MethodContext } from '../method';
import { emailStateOf, parseEmailState, type FolderMark } from '../state';

interface Change {
  messageId: string;
  modseq: number;
  /** A row of the folder now (changed), or a tombstone (gone). */
  gone: boolean;
  isNew: boolean;
  uid: number;
  /** The thread the message is (or, expunged, was) in; null when a tombstone does not say. */
  threadId: string | null;
}

export const emailChanges: JmapMethod = {
  name: 'Email/changes',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const sinceState = requiredString(args, 'sinceState');
    const maxChanges = optionalUnsigned(args, 'maxChanges');
    if (maxChanges === 0) throw new MethodError('invalidArguments', 'maxChanges must be greater than 0', { arguments: ['maxChanges'] });
    const { newState, hasMoreChanges, created, updated, destroyed } = await changesSince(ctx, sinceState, maxChanges ?? Infinity);
    return { accountId: ctx.account.accountId, oldState: sinceState, newState, hasMoreChanges, created, updated, destroyed };
  },
};

export interface EmailChanges {
  newState: string;
  hasMoreChanges: boolean;
  created: string[];
  updated: string[];
  destroyed: string[];
  /** The threads of the emails in these changes (Thread/changes); null where a destroyed email's thread is not known. */
  threads: Array<string | null>;
}

export async function changesSince(ctx: MethodContext, sinceState: string, maxChanges: number): Promise<EmailChanges> {
  const old = parseEmailState(sinceState);
  if (!old) throw new MethodError('cannotCalculateChanges', 'sinceState is not an Email state of this server');
  const folders = await ctx.store.listFolders(ctx.account.mailboxId);
  const current = new Set(folders.map((f) => f.id));
  // The messages a destroyed folder held then left no tombstones; messages moved in since left theirs where they came from.
  if (old.some((m) => !current.has(m.folderId) && m.count > 0)) {
    throw new MethodError('cannotCalculateChanges', 'a mailbox with emails was destroyed since that state: fetch the emails again');
  }
  const oldById = new Map(old.filter((m) => current.has(m.folderId)).map((m) => [m.folderId, m]));
  const perFolder: Array<{ folder: Folder; mark: FolderMark | undefined; changes: Change[]; highestModseq: number }> = [];
  for (const folder of folders) {
    const mark = oldById.get(folder.id);
    if (mark && mark.modseq === folder.highestModseq) continue;
    const ch = await ctx.store.changesSince(folder.id, mark?.modseq ?? 0);
    if (ch.vanishedMessages.some((v) => v.messageId === null)) {
      throw new MethodError('cannotCalculateChanges', 'messages expunged before ids were kept: fetch the emails again');
    }
    const changes: Change[] = [
      ...ch.changed.map((r) => ({ messageId: r.id, modseq: r.modseq, gone: false, isNew: !mark || r.uid >= mark.uidNext, uid: r.uid, threadId: r.threadId ?? null })),
      ...ch.vanishedMessages.map((v) => ({ messageId: v.messageId!, modseq: v.modseq, gone: true, isNew: false, uid: v.uid, threadId: v.threadId ?? null })),
    ].sort((a, b) => a.modseq - b.modseq);
    perFolder.push({ folder, mark, changes, highestModseq: ch.highestModseq });
  }

  // Take whole MODSEQs, folder by folder, while they fit in maxChanges.
  const taken: Change[] = [];
  const marks = new Map<string, FolderMark>(oldById);
  let hasMoreChanges = false;
  for (const { folder, mark, changes, highestModseq } of perFolder) {
    let reached = mark?.modseq ?? 0;
    let i = 0;
    while (i < changes.length) {
      let j = i;
      while (j < changes.length && changes[j].modseq === changes[i].modseq) j++;
      if (taken.length + (j - i) > maxChanges) break;
      taken.push(...changes.slice(i, j));
      reached = changes[i].modseq;
      i = j;
    }
    if (i < changes.length) {
      hasMoreChanges = true;
      if (taken.length === 0) {
        throw new MethodError('cannotCalculateChanges', `more than maxChanges (${maxChanges}) emails changed at once: fetch the emails again`);
      }
      const uidNext = Math.max(mark?.uidNext ?? 1, ...changes.slice(0, i).filter((c) => !c.gone).map((c) => c.uid + 1));
      if (reached > (mark?.modseq ?? 0)) marks.set(folder.id, { folderId: folder.id, modseq: reached, uidNext, count: countAt(mark, changes.slice(0, i)) });
      break;
    }
    const uidNext = Math.max(folder.uidNext, ...changes.filter((c) => !c.gone).map((c) => c.uid + 1));
    marks.set(folder.id, { folderId: folder.id, modseq: highestModseq, uidNext, count: folder.messageCount });
  }

  const present = new Set(taken.filter((c) => !c.gone).map((c) => c.messageId));
  const left = new Set(taken.filter((c) => c.gone).map((c) => c.messageId));
  const created = new Set<string>();
  const updated = new Set<string>();
  for (const c of taken) {
    if (c.gone) continue;
    if (c.isNew && !left.has(c.messageId)) created.add(c.messageId);
    else updated.add(c.messageId);
  }
  for (const id of created) updated.delete(id);
  const destroyed = [...left].filter((id) => !present.has(id));
  return {
    newState: emailStateOf(folders.flatMap((f) => marks.get(f.id) ?? [])),
    hasMoreChanges,
    created: [...created].map(emailIdOf),
    updated: [...updated].map(emailIdOf),
    destroyed: destroyed.map(emailIdOf),
    // A moved email shows as gone from one folder (no thread) and present in another (its thread).
    threads: [...new Set(taken.filter((c) => !c.gone || !present.has(c.messageId)).map((c) => c.threadId))],
  };
}

/**
 * The folder's message count once the changes taken are applied: a count that is too high only makes a later
 * /changes refuse (cannotCalculateChanges) where it could have answered, never answer wrong.
 */
function countAt(mark: FolderMark | undefined, taken: Change[]): number {
  return (mark?.count ?? 0) + taken.filter((c) => !c.gone && c.isNew).length;
}
