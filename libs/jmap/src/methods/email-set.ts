/**
 * Email/set (RFC 8621 §4.6): keywords (whole or by patch) become IMAP flags, mailboxIds a MOVE (a message is in
 * exactly one folder here), destroy is \Deleted plus EXPUNGE of that one UID, so IMAP sessions see each as their own.
 * Create composes the message from its properties (email-compose.ts) and stores it like Email/import: drafts.
 */
import { FolderNotFoundError, MessageNotFoundError, QuotaExceededError, type LocatedMessage } from '@dizi/mail-store/ports/message-store';
import { MAIL } from '../capabilities';
import { checkAccount, resolveId } from '../args';
import { MethodError, setError, type SetError } from '../errors';
import { flagOf, isValidKeyword, keywordsOf, messageIdOfEmail } from '../email-view';
import type { JmapMethod, MethodContext } from '../method';
import { parseSetRequest } from '../set-request';
import { composeEmail } from '../email-compose';
import { blobBytes, flagsOfKeywords, folderOfMailboxIds, storeMessage } from './email-import';
import { emailState } from '../state';

export const emailSet: JmapMethod = {
  name: 'Email/set',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const request = parseSetRequest(args, ctx);
    const mailboxId = ctx.account.mailboxId;
    const oldState = emailState(await ctx.store.listFolders(mailboxId));
    if (request.ifInState !== undefined && request.ifInState !== oldState) throw new MethodError('stateMismatch', 'the emails changed since ifInState');

    const created: Record<string, Record<string, unknown>> = {};
    const notCreated: Record<string, SetError> = {};
    for (const [cid, object] of request.create) {
      try {
        const email = await createEmail(ctx, object);
        created[cid] = email;
        ctx.createdIds.set(cid, email.id as string);
      } catch (err) {
        notCreated[cid] = asSetError(err);
      }
    }

    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    for (const [rawId, patch] of request.update) {
      const id = resolveId(rawId, ctx);
      try {
        const record = await find(ctx, id);
        await applyUpdate(ctx, record, patch);
        updated[id] = null;
      } catch (err) {
        notUpdated[id] = asSetError(err);
      }
    }

    const destroyed: string[] = [];
    const notDestroyed: Record<string, SetError> = {};
    for (const rawId of request.destroy) {
      const id = resolveId(rawId, ctx);
      try {
        const record = await find(ctx, id);
        const range = [{ from: record.uid, to: record.uid }];
        await ctx.store.setFlags(record.folderId, range, 'add', ['\\Deleted']);
        await ctx.store.expunge(record.folderId, range);
        destroyed.push(id);
      } catch (err) {
        notDestroyed[id] = asSetError(err);
      }
    }

    return {
      accountId: ctx.account.accountId,
      oldState,
      newState: emailState(await ctx.store.listFolders(mailboxId)),
      created, updated, destroyed, notCreated, notUpdated, notDestroyed,
    };
  },
};

/** A draft (or any message) from its Email object: composed, stored in its one mailbox with its keywords. */
async function createEmail(ctx: MethodContext, o: Record<string, unknown>): Promise<Record<string, unknown>> {
  const folderId = await folderOfMailboxIds(ctx, o.mailboxIds);
  const flags = flagsOfKeywords(o.keywords);
  let receivedAt = new Date();
  if (o.receivedAt !== undefined && o.receivedAt !== null) {
    const d = typeof o.receivedAt === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(o.receivedAt) ? new Date(o.receivedAt) : null;
    if (!d || Number.isNaN(d.getTime())) throw setError('invalidProperties', 'receivedAt must be a UTCDate (YYYY-MM-DDThh:mm:ssZ)', ['receivedAt']);
    receivedAt = d;
  }
  const bytes = await composeEmail(o, (blobId) => blobBytes(ctx, resolveId(blobId, ctx)), {
    maxAttachmentBytes: ctx.limits.maxSizeUpload,
    fallbackHost: ctx.account.name.split('@')[1] ?? 'localhost',
  });
  return storeMessage(ctx, bytes, folderId, flags, receivedAt);
}

async function find(ctx: MethodContext, id: string): Promise<LocatedMessage> {
  const rowId = messageIdOfEmail(id);
  const [record] = rowId ? await ctx.store.messagesById(ctx.account.mailboxId, [rowId], { withSummary: false }) : [];
  if (!record) throw setError('notFound', `no email ${id}`);
  return record;
}

async function applyUpdate(ctx: MethodContext, record: LocatedMessage, patch: Record<string, unknown>): Promise<void> {
  let keywords: Record<string, unknown> | null = null;
  const keywordPatch = new Map<string, boolean>();
  let mailboxIds: Record<string, unknown> | null = null;
  const mailboxPatch = new Map<string, boolean>();
  for (const [path, value] of Object.entries(patch)) {
    if (path === 'keywords') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw setError('invalidProperties', 'keywords must be an object', ['keywords']);
      keywords = value as Record<string, unknown>;
    } else if (path.startsWith('keywords/')) {
      if (value !== true && value !== null) throw setError('invalidProperties', `${path} must be true or null`, [path]);
      keywordPatch.set(unescapePointer(path.slice('keywords/'.length)).toLowerCase(), value === true);
    } else if (path === 'mailboxIds') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw setError('invalidProperties', 'mailboxIds must be an object', ['mailboxIds']);
      mailboxIds = value as Record<string, unknown>;
    } else if (path.startsWith('mailboxIds/')) {
      if (value !== true && value !== null) throw setError('invalidProperties', `${path} must be true or null`, [path]);
      mailboxPatch.set(resolveId(unescapePointer(path.slice('mailboxIds/'.length)), ctx), value === true);
    } else {
      throw setError('invalidProperties', 'only keywords and mailboxIds can be changed', [path]);
    }
  }
  if (keywords && keywordPatch.size > 0) throw setError('invalidPatch', 'keywords and keywords/… in one update');
  if (mailboxIds && mailboxPatch.size > 0) throw setError('invalidPatch', 'mailboxIds and mailboxIds/… in one update');

  // The folder the message ends in: exactly one (maxMailboxesPerEmail is 1).
  let target = record.folderId;
  if (mailboxIds || mailboxPatch.size > 0) {
    const set = new Set(mailboxIds ? Object.entries(mailboxIds).filter(([, v]) => v === true).map(([k]) => resolveId(k, ctx)) : [record.folderId]);
    if (mailboxIds && Object.values(mailboxIds).some((v) => v !== true)) throw setError('invalidProperties', 'mailboxIds values must be true', ['mailboxIds']);
    for (const [id, on] of mailboxPatch) if (on) set.add(id); else set.delete(id);
    if (set.size !== 1) throw setError('invalidProperties', 'an email is in exactly one mailbox on this server (maxMailboxesPerEmail is 1)', ['mailboxIds']);
    target = [...set][0];
  }

  if (keywords || keywordPatch.size > 0) {
    const now = keywordsOf(record.flags);
    let next: Set<string>;
    if (keywords) {
      if (Object.values(keywords).some((v) => v !== true)) throw setError('invalidProperties', 'keywords values must be true', ['keywords']);
      next = new Set(Object.keys(keywords).map((k) => k.toLowerCase()));
    } else {
      next = new Set(Object.keys(now));
      for (const [k, on] of keywordPatch) if (on) next.add(k); else next.delete(k);
    }
    const bad = [...next].filter((k) => !isValidKeyword(k));
    if (bad.length > 0) throw setError('invalidProperties', `not valid keywords: ${bad.join(', ')}`, ['keywords']);
    // Flags without a keyword (\Deleted) stay as they are.
    const kept = record.flags.filter((f) => f.startsWith('\\') && !['\\seen', '\\flagged', '\\answered', '\\draft'].includes(f.toLowerCase()));
    const flags = [...kept, ...[...next].map(flagOf)];
    const changed = flags.length !== record.flags.length || flags.some((f) => !record.flags.some((g) => g.toLowerCase() === f.toLowerCase()));
    if (changed) await ctx.store.setFlags(record.folderId, [{ from: record.uid, to: record.uid }], 'replace', flags);
  }

  if (target !== record.folderId) {
    const folders = await ctx.store.listFolders(ctx.account.mailboxId);
    if (!folders.some((f) => f.id === target)) throw setError('invalidProperties', `no mailbox ${target}`, ['mailboxIds']);
    await ctx.store.move(record.folderId, [{ from: record.uid, to: record.uid }], target);
  }
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function asSetError(err: unknown): SetError {
  if (err && typeof err === 'object' && 'type' in err && !(err instanceof Error)) return err as SetError;
  if (err instanceof MessageNotFoundError) return setError('notFound', err.message);
  if (err instanceof FolderNotFoundError) return setError('invalidProperties', err.message, ['mailboxIds']);
  if (err instanceof QuotaExceededError) return setError('overQuota', err.message);
  throw err;
}
