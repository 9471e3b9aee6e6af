/** Email/get (RFC 8621 §4.2): metadata from the rows; headers and bodies parsed from the stored message. */
import type { LocatedMessage } from '@dizi/mail-store/ports/message-store';
import { MAIL } from '../capabilities';
import { checkAccount, idsOf, optionalBoolean, optionalStringList, optionalUnsigned, propertiesOf } from '../args';
import { MethodError } from '../errors';
import { parseHeaderProperty } from '../header-forms';
import {
  BODY_PART_DEFAULT_PROPERTIES, BODY_PART_PROPERTIES, EMAIL_DEFAULT_PROPERTIES, EMAIL_PROPERTIES, messageIdOfEmail, needsSource, toEmail,
} from '../email-view';
import type { JmapMethod, MethodContext } from '../method';
import { emailState } from '../state';

/** Messages read at once for one Email/get. */
const SOURCE_READS = 8;

export const emailGet: JmapMethod = {
  name: 'Email/get',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const isHeader = (p: string) => parseHeaderProperty(p) !== null;
    const properties = propertiesOf(args, EMAIL_PROPERTIES, EMAIL_DEFAULT_PROPERTIES, isHeader);
    const bodyProperties = optionalStringList(args, 'bodyProperties') ?? [...BODY_PART_DEFAULT_PROPERTIES];
    const badBody = bodyProperties.filter((p) => !BODY_PART_PROPERTIES.includes(p) && !isHeader(p));
    if (badBody.length > 0) throw new MethodError('invalidArguments', `unknown bodyProperties: ${badBody.join(', ')}`, { arguments: ['bodyProperties'] });
    const options = {
      properties,
      bodyProperties,
      fetchTextBodyValues: optionalBoolean(args, 'fetchTextBodyValues', false),
      fetchHTMLBodyValues: optionalBoolean(args, 'fetchHTMLBodyValues', false),
      fetchAllBodyValues: optionalBoolean(args, 'fetchAllBodyValues', false),
      maxBodyValueBytes: optionalUnsigned(args, 'maxBodyValueBytes') ?? 0,
    };
    const ids = idsOf(args, ctx);
    const folders = await ctx.store.listFolders(ctx.account.mailboxId);
    const state = emailState(folders);
    const records = ids ? await byIds(ids, ctx) : await everything(ctx, folders.map((f) => f.id));
    const withSource = needsSource(properties);
    // The messages are read a few at a time (blob reads wait on the disk or S3, not on this process).
    const sources: Array<Buffer | null> = new Array(records.length).fill(null);
    if (withSource) {
      let next = 0;
      const reader = async () => {
        while (next < records.length) {
          const i = next++;
          sources[i] = await ctx.store.readMessage(records[i]);
        }
      };
      await Promise.all(Array.from({ length: Math.min(SOURCE_READS, records.length) }, reader));
    }
    const list = records.map((record, i) => toEmail(record, sources[i], options));
    const found = new Set(list.map((e) => e.id));
    const notFound = ids ? [...new Set(ids.filter((id) => !found.has(id)))] : [];
    return { accountId: ctx.account.accountId, state, list, notFound };
  },
};

async function byIds(ids: string[], ctx: MethodContext): Promise<LocatedMessage[]> {
  const rowIds = [...new Set(ids.map(messageIdOfEmail).filter((x): x is string => x !== null))];
  return ctx.store.messagesById(ctx.account.mailboxId, rowIds, { withSummary: false, withSortFields: true, withSource: true });
}

/** `ids: null` asks for every email: allowed while there are no more than maxObjectsInGet. */
async function everything(ctx: MethodContext, folderIds: string[]): Promise<LocatedMessage[]> {
  const out: LocatedMessage[] = [];
  for (const folderId of folderIds) {
    const records = await ctx.store.listMessages(folderId, { withSummary: false, withSortFields: true, withSource: true, withThreadId: true });
    out.push(...records.map((r) => ({ ...r, folderId })));
    if (out.length > ctx.limits.maxObjectsInGet) {
      throw new MethodError('requestTooLarge', `more than ${ctx.limits.maxObjectsInGet} emails: ask for them by id (maxObjectsInGet)`);
    }
  }
  return out;
}
