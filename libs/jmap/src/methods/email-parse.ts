/**
 * Email/parse (RFC 8621 §4.9): a blob (an upload, a stored message, or a message/rfc822 part of one) read as an
 * Email without storing it, e.g. an attached message shown in the webmail. Store-only properties (id, mailboxIds,
 * keywords, receivedAt, threadId) are null; parts have no blobId of their own (their bytes are in the blob's).
 */
import type { LocatedMessage } from '@dizi/mail-store/ports/message-store';
import { MAIL } from '../capabilities';
import { checkAccount, optionalBoolean, optionalStringList, optionalUnsigned, propertiesOf, resolveId } from '../args';
import { bodyLists, parseMessage } from '../email-parser';
import { BODY_PART_DEFAULT_PROPERTIES, BODY_PART_PROPERTIES, EMAIL_PROPERTIES, toEmail } from '../email-view';
import { MethodError } from '../errors';
import { parseHeaderProperty } from '../header-forms';
import type { JmapMethod } from '../method';
import { blobBytes } from './email-import';

const PARSE_DEFAULT_PROPERTIES = [
  'messageId', 'inReplyTo', 'references', 'sender', 'from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'sentAt', 'hasAttachment', 'preview',
  'bodyValues', 'textBody', 'htmlBody', 'attachments',
];
const STORE_ONLY = new Set(['id', 'mailboxIds', 'keywords', 'receivedAt', 'threadId']);

export const emailParse: JmapMethod = {
  name: 'Email/parse',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const blobIds = optionalStringList(args, 'blobIds');
    if (!blobIds) throw new MethodError('invalidArguments', 'blobIds must be a list of blob ids', { arguments: ['blobIds'] });
    if (blobIds.length > ctx.limits.maxObjectsInGet) throw new MethodError('requestTooLarge', `at most ${ctx.limits.maxObjectsInGet} blobs per call (maxObjectsInGet)`);
    const isHeader = (p: string) => parseHeaderProperty(p) !== null;
    const properties = propertiesOf(args, EMAIL_PROPERTIES, PARSE_DEFAULT_PROPERTIES, isHeader);
    const bodyProperties = optionalStringList(args, 'bodyProperties') ?? [...BODY_PART_DEFAULT_PROPERTIES];
    const badBody = bodyProperties.filter((p) => !BODY_PART_PROPERTIES.includes(p) && !isHeader(p));
    if (badBody.length > 0) throw new MethodError('invalidArguments', `unknown bodyProperties: ${badBody.join(', ')}`, { arguments: ['bodyProperties'] });
    const options = {
      properties: properties.filter((p) => !STORE_ONLY.has(p) && p !== 'blobId' && p !== 'size' && p !== 'hasAttachment'),
      bodyProperties,
      fetchTextBodyValues: optionalBoolean(args, 'fetchTextBodyValues', false),
      fetchHTMLBodyValues: optionalBoolean(args, 'fetchHTMLBodyValues', false),
      fetchAllBodyValues: optionalBoolean(args, 'fetchAllBodyValues', false),
      maxBodyValueBytes: optionalUnsigned(args, 'maxBodyValueBytes') ?? 0,
    };

    const parsed: Record<string, Record<string, unknown>> = {};
    const notParsable: string[] = [];
    const notFound: string[] = [];
    for (const given of new Set(blobIds)) {
      const bytes = await blobBytes(ctx, resolveId(given, ctx));
      if (!bytes) {
        notFound.push(given);
        continue;
      }
      // A message has a header block; anything else (a PDF, an image) is not one.
      if (!/^[\x21-\x39\x3b-\x7e]+:/.test(bytes.subarray(0, 200).toString('latin1'))) {
        notParsable.push(given);
        continue;
      }
      const record: LocatedMessage = { id: '0', folderId: '', uid: 0, modseq: 0, flags: [], size: bytes.length, internalDate: new Date(0), blobHash: '' };
      const email = toEmail(record, bytes, options);
      for (const part of ['bodyStructure', 'textBody', 'htmlBody', 'attachments']) if (part in email) withoutBlobIds(email[part]);
      const out: Record<string, unknown> = {};
      for (const p of properties) {
        if (STORE_ONLY.has(p)) out[p] = null;
        else if (p === 'blobId') out.blobId = given;
        else if (p === 'size') out.size = bytes.length;
        else if (p === 'hasAttachment') out.hasAttachment = bodyLists(parseMessage(bytes)).attachments.length > 0;
        else out[p] = email[p];
      }
      parsed[given] = out;
    }
    return { accountId: ctx.account.accountId, parsed, notParsable, notFound };
  },
};

function withoutBlobIds(value: unknown): void {
  if (Array.isArray(value)) value.forEach(withoutBlobIds);
  else if (value && typeof value === 'object') {
    const part = value as Record<string, unknown>;
    if ('blobId' in part) part.blobId = null;
    if (Array.isArray(part.subParts)) part.subParts.forEach(withoutBlobIds);
  }
}
