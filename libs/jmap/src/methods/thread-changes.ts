/**
 * Thread/changes (RFC 8621 §3.2): the threads of the emails Email/changes reports since the same state (a Thread's
 * state is the Email state): gone when it has no email left, created when every email it has now is new since then,
 * updated otherwise. Destroyed emails name their thread through their tombstones.
 */
import { MAIL } from '../capabilities';
import { checkAccount, optionalUnsigned, requiredString } from '../args';
import { MethodError } from '../errors';
import { messageIdOfEmail, threadIdOf } from '../email-view';
import type { JmapMethod } from '../method';
import { changesSince } from './email-changes';

export const threadChanges: JmapMethod = {
  name: 'Thread/changes',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const sinceState = requiredString(args, 'sinceState');
    const maxChanges = optionalUnsigned(args, 'maxChanges');
    if (maxChanges === 0) throw new MethodError('invalidArguments', 'maxChanges must be greater than 0', { arguments: ['maxChanges'] });
    // At most one thread per email changed: the emails' limit bounds the threads'.
    const changes = await changesSince(ctx, sinceState, maxChanges ?? Infinity);
    if (changes.threads.some((t) => t === null)) {
      throw new MethodError('cannotCalculateChanges', 'emails were removed before their threads were kept: fetch the threads again');
    }
    const threadIds = changes.threads as string[];
    const now = new Map((await ctx.store.threadMessages(ctx.account.mailboxId, threadIds)).map((t) => [t.threadId, t.messageIds]));
    const createdEmails = new Set(changes.created.map(messageIdOfEmail));
    const created: string[] = [];
    const updated: string[] = [];
    const destroyed: string[] = [];
    for (const id of threadIds) {
      const emails = now.get(id);
      if (!emails) destroyed.push(threadIdOf(id));
      else if (emails.every((e) => createdEmails.has(e))) created.push(threadIdOf(id));
      else updated.push(threadIdOf(id));
    }
    return {
      accountId: ctx.account.accountId, oldState: sinceState, newState: changes.newState, hasMoreChanges: changes.hasMoreChanges,
      created, updated, destroyed,
    };
  },
};
