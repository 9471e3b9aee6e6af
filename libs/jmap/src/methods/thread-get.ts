/** Thread/get (RFC 8621 §3.1): the emails of each thread, oldest first; thread ids are kept per message by the store. */
import { MAIL } from '../capabilities';
import { checkAccount, idsOf } from '../args';
import { MethodError } from '../errors';
import { emailIdOf, messageIdOfThread, threadIdOf } from '../email-view';
import type { JmapMethod } from '../method';
import { emailState } from '../state';

export const threadGet: JmapMethod = {
  name: 'Thread/get',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const ids = idsOf(args, ctx);
    if (!ids) throw new MethodError('requestTooLarge', 'ask for threads by id');
    const threadIds = [...new Set(ids.map(messageIdOfThread).filter((x): x is string => x !== null))];
    const [folders, threads] = await Promise.all([
      ctx.store.listFolders(ctx.account.mailboxId),
      ctx.store.threadMessages(ctx.account.mailboxId, threadIds),
    ]);
    const list = threads.map((t) => ({ id: threadIdOf(t.threadId), emailIds: t.messageIds.map(emailIdOf) }));
    const found = new Set(list.map((t) => t.id));
    return { accountId: ctx.account.accountId, state: emailState(folders), list, notFound: [...new Set(ids.filter((id) => !found.has(id)))] };
  },
};
