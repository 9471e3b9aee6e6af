/**
 * Email/import (RFC 8621 §4.8): a message from a blob (an upload of the account, or a message or part it already
 * has) stored in one mailbox with keywords; quota is checked as for IMAP APPEND.
 */
import { searchKeyList } from '@dizi/domain/search-key';
import { FolderNotFoundError, QuotaExceededError } from '@dizi/mail-store/ports/message-store';
import { searchTextParts, summariseMessage } from '@dizi/mime/message-summary';
import { searchTokensOf } from '@dizi/mime/search-tokens';
import { readBlob } from '../blob-download';
import { MAIL } from '../capabilities';
import { checkAccount, optionalObject, optionalString, resolveId } from '../args';
import { MethodError, setError, type SetError } from '../errors';
import { blobIdOf, emailIdOf, flagOf, isValidKeyword, threadIdOf } from '../email-view';
import type { JmapMethod, MethodContext } from '../method';
import { emailState } from '../state';
import { isUploadBlobId } from '../uploads';

export const emailImport: JmapMethod = {
  name: 'Email/import',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const emails = Object.entries(optionalObject(args, 'emails') ?? {});
    if (emails.length > ctx.limits.maxObjectsInSet) {
      throw new MethodError('requestTooLarge', `at most ${ctx.limits.maxObjectsInSet} emails in one Email/import (maxObjectsInSet)`);
    }
    const ifInState = optionalString(args, 'ifInState');
    const oldState = emailState(await ctx.store.listFolders(ctx.account.mailboxId));
    if (ifInState !== undefined && ifInState !== oldState) throw new MethodError('stateMismatch', 'the emails changed since ifInState');

    const created: Record<string, Record<string, unknown>> = {};
    const notCreated: Record<string, SetError> = {};
    for (const [cid, value] of emails) {
      try {
        const email = await importOne(ctx, value);
        created[cid] = email;
        ctx.createdIds.set(cid, email.id as string);
      } catch (err) {
        notCreated[cid] = asSetError(err);
      }
    }
    return {
      accountId: ctx.account.accountId,
      oldState,
      newState: emailState(await ctx.store.listFolders(ctx.account.mailboxId)),
      created, notCreated,
    };
  },
};

/** What Email/import and Email/set create share: bytes into the store as one message of a folder. */
export async function storeMessage(ctx: MethodContext, bytes: Buffer, folderId: string, flags: string[], receivedAt: Date): Promise<Record<string, unknown>> {
  const summary = await summariseMessage(bytes);
  const { searchText, ...kept } = summary;
  const blob = await ctx.store.putBlob(bytes);
  const appended = await ctx.store.append(ctx.account.mailboxId, { id: folderId }, {
    blobHash: blob.hash,
    flags,
    internalDate: receivedAt,
    summary: kept,
    sortFields: {
      subject: summary.subject,
      baseSubject: summary.baseSubject,
      from: summary.from?.address ?? null,
      to: summary.to[0]?.address ?? null,
      cc: summary.cc[0]?.address ?? null,
      sentDate: summary.date,
      messageId: summary.messageId,
      inReplyTo: summary.inReplyTo,
      references: summary.references,
      attachmentNames: summary.attachmentNames,
    },
    searchKeys: searchKeyList(searchTokensOf(searchTextParts(searchText))),
  }, { enforceQuota: true });
  const [record] = await ctx.store.messagesById(ctx.account.mailboxId, [appended.messageId], { withSummary: false });
  return {
    id: emailIdOf(appended.messageId),
    blobId: blobIdOf(appended.messageId),
    threadId: threadIdOf(record?.threadId ?? appended.messageId),
    size: appended.size,
  };
}

/** Keywords of a create/import object as IMAP flags. */
export function flagsOfKeywords(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) throw setError('invalidProperties', 'keywords must be an object', ['keywords']);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.some(([, v]) => v !== true)) throw setError('invalidProperties', 'keywords values must be true', ['keywords']);
  const bad = entries.map(([k]) => k.toLowerCase()).filter((k) => !isValidKeyword(k));
  if (bad.length > 0) throw setError('invalidProperties', `not valid keywords: ${bad.join(', ')}`, ['keywords']);
  return entries.map(([k]) => flagOf(k.toLowerCase()));
}

/** The one folder of a mailboxIds object (maxMailboxesPerEmail is 1), which must exist. */
export async function folderOfMailboxIds(ctx: MethodContext, value: unknown): Promise<string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw setError('invalidProperties', 'mailboxIds must be an object', ['mailboxIds']);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.some(([, v]) => v !== true)) throw setError('invalidProperties', 'mailboxIds values must be true', ['mailboxIds']);
  if (entries.length !== 1) throw setError('invalidProperties', 'an email is in exactly one mailbox on this server (maxMailboxesPerEmail is 1)', ['mailboxIds']);
  const id = resolveId(entries[0][0], ctx);
  const folders = await ctx.store.listFolders(ctx.account.mailboxId);
  if (!folders.some((f) => f.id === id)) throw setError('invalidProperties', `no mailbox ${id}`, ['mailboxIds']);
  return id;
}

/** The bytes of a blob id of the account: an upload, or a message or part it has; null when there is none. */
export async function blobBytes(ctx: MethodContext, blobId: string): Promise<Buffer | null> {
  if (isUploadBlobId(blobId)) {
    const upload = await ctx.uploads?.find(ctx.account.accountId, blobId);
    return upload ? ctx.uploads!.read(upload) : null;
  }
  return readBlob(ctx.store, ctx.account, blobId);
}

async function importOne(ctx: MethodContext, value: unknown): Promise<Record<string, unknown>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw setError('invalidProperties', 'an EmailImport must be an object');
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !['blobId', 'mailboxIds', 'keywords', 'receivedAt'].includes(k));
  if (unknown.length > 0) throw setError('invalidProperties', `unknown properties: ${unknown.join(', ')}`, unknown);
  if (typeof o.blobId !== 'string') throw setError('invalidProperties', 'blobId is required', ['blobId']);
  const blobId = resolveId(o.blobId, ctx);
  let receivedAt = new Date();
  if (o.receivedAt !== undefined && o.receivedAt !== null) {
    const d = typeof o.receivedAt === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(o.receivedAt) ? new Date(o.receivedAt) : null;
    if (!d || Number.isNaN(d.getTime())) throw setError('invalidProperties', 'receivedAt must be a UTCDate (YYYY-MM-DDThh:mm:ssZ)', ['receivedAt']);
    receivedAt = d;
  }
  const flags = flagsOfKeywords(o.keywords);
  const folderId = await folderOfMailboxIds(ctx, o.mailboxIds);
  const bytes = await blobBytes(ctx, blobId);
  if (!bytes) throw { ...setError('blobNotFound', `no blob ${blobId} in this account (uploads expire after some hours)`, ['blobId']), notFound: [blobId] };
  if (bytes.indexOf('\r\n\r\n') < 0 && bytes.indexOf('\n\n') < 0 && !/^[\x21-\x39\x3b-\x7e]+:/.test(bytes.subarray(0, 200).toString('latin1'))) {
    throw setError('invalidEmail', 'the blob is not an RFC 5322 message (no header fields)', ['blobId']);
  }
  return storeMessage(ctx, bytes, folderId, flags, receivedAt);
}

function asSetError(err: unknown): SetError {
  if (err && typeof err === 'object' && 'type' in err && !(err instanceof Error)) return err as SetError;
  if (err instanceof FolderNotFoundError) return setError('invalidProperties', err.message, ['mailboxIds']);
  if (err instanceof QuotaExceededError) return setError('overQuota', err.message);
  throw err;
}
