/** Mailbox/get (RFC 8621 §2.1). */
import { MAIL } from '../capabilities';
import { checkAccount, idsOf, propertiesOf } from '../args';
import { MAILBOX_PROPERTIES, pick, toMailbox } from '../mailbox-view';
import type { JmapMethod } from '../method';
import { mailboxMarks, mailboxState } from '../state';

export const mailboxGet: JmapMethod = {
  name: 'Mailbox/get',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const properties = propertiesOf(args, MAILBOX_PROPERTIES, MAILBOX_PROPERTIES);
    const ids = idsOf(args, ctx);
    const folders = await ctx.store.listFolders(ctx.account.mailboxId);
    const byName = new Map(folders.map((f) => [f.name, f]));
    const byId = new Map(folders.map((f) => [f.id, f]));
    const wanted = ids ?? folders.map((f) => f.id);
    const list = wanted.filter((id) => byId.has(id)).map((id) => pick(toMailbox(byId.get(id)!, byName), properties));
    const notFound = ids ? [...new Set(ids.filter((id) => !byId.has(id)))] : [];
    return { accountId: ctx.account.accountId, state: mailboxState(mailboxMarks(folders)), list, notFound };
  },
};
