/**
 * Mailbox/changes (RFC 8621 §2.2): the old state lists each folder with digests of its name/role/subscription and of
 * its counts, so created, destroyed and updated folders follow from comparing it with the folders now.
 */
import { MAIL } from '../capabilities';
import { checkAccount, optionalUnsigned, requiredString } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';
import { mailboxMarks, mailboxState, parseMailboxState, type MailboxMark } from '../state';

const COUNT_PROPERTIES = ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads'];

export const mailboxChanges: JmapMethod = {
  name: 'Mailbox/changes',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const sinceState = requiredString(args, 'sinceState');
    const maxChanges = optionalUnsigned(args, 'maxChanges');
    if (maxChanges === 0) throw new MethodError('invalidArguments', 'maxChanges must be greater than 0', { arguments: ['maxChanges'] });
    const old = parseMailboxState(sinceState);
    if (!old) throw new MethodError('cannotCalculateChanges', 'sinceState is not a Mailbox state of this server');
    const now = mailboxMarks(await ctx.store.listFolders(ctx.account.mailboxId));
    const oldById = new Map(old.map((m) => [m.folderId, m]));
    const nowById = new Map(now.map((m) => [m.folderId, m]));
    type Change = { kind: 'created' | 'updated' | 'destroyed'; id: string; countsOnly: boolean };
    const changes: Change[] = [];
    for (const m of now) {
      const before = oldById.get(m.folderId);
      if (!before) changes.push({ kind: 'created', id: m.folderId, countsOnly: false });
      else if (before.meta !== m.meta || before.counts !== m.counts) changes.push({ kind: 'updated', id: m.folderId, countsOnly: before.meta === m.meta });
    }
    for (const m of old) if (!nowById.has(m.folderId)) changes.push({ kind: 'destroyed', id: m.folderId, countsOnly: false });

    const taken = maxChanges !== undefined && changes.length > maxChanges ? changes.slice(0, maxChanges) : changes;
    const hasMoreChanges = taken.length < changes.length;
    // The new state: the old one with the changes taken applied (all of them: the state of now).
    let newMarks: MailboxMark[] = now;
    if (hasMoreChanges) {
      const next = new Map(oldById);
      for (const c of taken) {
        if (c.kind === 'destroyed') next.delete(c.id);
        else next.set(c.id, nowById.get(c.id)!);
      }
      newMarks = [...next.values()];
    }
    const updated = taken.filter((c) => c.kind === 'updated');
    return {
      accountId: ctx.account.accountId,
      oldState: sinceState,
      newState: mailboxState(newMarks),
      hasMoreChanges,
      created: taken.filter((c) => c.kind === 'created').map((c) => c.id),
      updated: updated.map((c) => c.id),
      destroyed: taken.filter((c) => c.kind === 'destroyed').map((c) => c.id),
      updatedProperties: updated.length > 0 && updated.every((c) => c.countsOnly) ? COUNT_PROPERTIES : null,
    };
  },
};
