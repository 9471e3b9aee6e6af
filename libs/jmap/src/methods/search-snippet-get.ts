/** SearchSnippet/get (RFC 8621 §5.1): the subject and a body excerpt of each email, the filter's words marked. */
import { MAIL } from '../capabilities';
import { checkAccount } from '../args';
import { bodyLists, lastHeader, parseMessage } from '../email-parser';
import { checkFilter, type Filter } from '../email-filter';
import { bodyText, messageIdOfEmail } from '../email-view';
import { MethodError } from '../errors';
import { headerAs } from '../header-forms';
import type { JmapMethod } from '../method';
import { excerpt, highlight, snippetTerms } from '../search-snippet';

export const searchSnippetGet: JmapMethod = {
  name: 'SearchSnippet/get',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const filter = args.filter === undefined || args.filter === null ? null : (args.filter as Filter);
    if (filter) checkFilter(filter);
    const emailIds = args.emailIds;
    if (!Array.isArray(emailIds) || !emailIds.every((id) => typeof id === 'string')) {
      throw new MethodError('invalidArguments', 'emailIds must be a list of Email ids', { arguments: ['emailIds'] });
    }
    if (emailIds.length > ctx.limits.maxObjectsInGet) {
      throw new MethodError('requestTooLarge', `at most ${ctx.limits.maxObjectsInGet} emails per call (maxObjectsInGet)`);
    }
    const terms = snippetTerms(filter);
    const rowIds = [...new Set((emailIds as string[]).map(messageIdOfEmail).filter((x): x is string => x !== null))];
    const records = await ctx.store.messagesById(ctx.account.mailboxId, rowIds, { withSummary: false, withSource: true });
    const byId = new Map(records.map((r) => [`M${r.id}`, r]));
    const list: Array<{ emailId: string; subject: string | null; preview: string | null }> = [];
    const notFound: string[] = [];
    for (const emailId of new Set(emailIds as string[])) {
      const record = byId.get(emailId);
      if (!record) {
        notFound.push(emailId);
        continue;
      }
      if (terms.subject.length === 0 && terms.body.length === 0) {
        list.push({ emailId, subject: null, preview: null });
        continue;
      }
      const source = await ctx.store.readMessage(record);
      const root = parseMessage(source);
      const rawSubject = lastHeader(root.headers, 'subject');
      const subject = rawSubject === null ? '' : String(headerAs(rawSubject, 'Text'));
      list.push({
        emailId,
        subject: highlight(subject, terms.subject),
        preview: terms.body.length ? excerpt(bodyText(bodyLists(root), source), terms.body) : null,
      });
    }
    return { accountId: ctx.account.accountId, list, notFound };
  },
};
