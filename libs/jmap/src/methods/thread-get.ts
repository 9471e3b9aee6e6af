/** Thread/get (RFC 8621 §3.1): until thread ids are kept per message, every message is a thread of its own. */
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
    const rowIds = [...new Set(ids.map(messageIdOfThread).filter((x): x is string => x !== null))];
    const [folders, records] = await Promise.all([
      ctx.store.listFolders(ctx.account.mailboxId),
      ctx.store.messagesById(ctx.account.mailboxId, rowIds, { withSummary: false }),
    ]);
    const list = records.map((r) => ({ id: threadIdOf(r.id), emailIds: [emailIdOf(r.id)] }));
    const found = new Set(list.map((t) => t.id));
    return { accountId: ctx.account.accountId, state: emailState(folders), list, notFound: [...new Set(ids.filter((id) => !found.has(id)))] };
  },
};
