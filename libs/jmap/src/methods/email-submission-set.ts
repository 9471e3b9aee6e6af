/**
 * EmailSubmission/set create (RFC 8621 §7.5): an email of the account sent as one of its identities, the envelope
 * given or taken from the message (From's identity; To, Cc and Bcc), through the submission service: sent at once
 * (undoStatus final, no sendAt). onSuccessUpdateEmail / onSuccessDestroyEmail run as an implicit Email/set whose
 * response follows this one. What EmailSubmission/get shows is kept for a week (no query/changes yet).
 */
import { SUBMISSION } from '../capabilities';
import { checkAccount, optionalObject, optionalStringList, resolveId } from '../args';
import { MethodError, setError, type SetError } from '../errors';
import { lastHeader, parseMessage } from '../email-parser';
import { messageIdOfEmail, threadIdOf } from '../email-view';
import { addresses } from '../header-forms';
import { addressOfIdentity } from '../identities';
import type { Args, JmapMethod, MethodContext } from '../method';
import { parseSetRequest } from '../set-request';
import { emailSet } from './email-set';

export const emailSubmissionSet: JmapMethod = {
  name: 'EmailSubmission/set',
  capability: SUBMISSION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const request = parseSetRequest(args, ctx);
    const onSuccessUpdate = optionalObject(args, 'onSuccessUpdateEmail') ?? {};
    const onSuccessDestroy = optionalStringList(args, 'onSuccessDestroyEmail') ?? [];
    const created: Record<string, Record<string, unknown>> = {};
    const notCreated: Record<string, SetError> = {};
    const emailOf = new Map<string, string>();
    for (const [cid, object] of request.create) {
      try {
        const { id, emailId, record } = await submit(ctx, object);
        created[cid] = { id, undoStatus: 'final', sendAt: record.sendAt };
        ctx.createdIds.set(cid, id);
        emailOf.set(id, emailId);
      } catch (err) {
        notCreated[cid] = asSetError(err);
      }
    }
    const notUpdated = Object.fromEntries(request.update.map(([id]) => [id, setError('cannotUnsend', 'sent at once: there is nothing to change or undo')]));
    const notDestroyed = Object.fromEntries(request.destroy.map((id) => [id, setError('notFound', 'submissions are not kept after sending')]));

    // The implicit Email/set: "#cid" names the email of the submission created as cid.
    const target = (key: string): string | null => {
      if (!key.startsWith('#')) return null;
      const submissionId = ctx.createdIds.get(key.slice(1));
      return submissionId && emailOf.has(submissionId) ? emailOf.get(submissionId)! : null;
    };
    const update: Record<string, unknown> = {};
    for (const [key, patch] of Object.entries(onSuccessUpdate)) {
      const emailId = target(key);
      if (emailId) update[emailId] = patch;
    }
    const destroy = onSuccessDestroy.map(target).filter((id): id is string => id !== null);
    const response: Args = { accountId: ctx.account.accountId, oldState: null, newState: null, created, updated: {}, destroyed: [], notCreated, notUpdated, notDestroyed };
    if (Object.keys(update).length > 0 || destroy.length > 0) {
      ctx.followUps?.push(['Email/set', await emailSet.run({ accountId: ctx.account.accountId, update, destroy }, ctx)]);
    }
    return response;
  },
};

async function submit(ctx: MethodContext, o: Record<string, unknown>): Promise<{ id: string; emailId: string; record: Record<string, unknown> & { id: string } }> {
  if (!ctx.sender || !ctx.identities) throw new MethodError('accountNotSupportedByMethod', 'this server cannot send mail over JMAP');
  const unknown = Object.keys(o).filter((k) => !['identityId', 'emailId', 'envelope'].includes(k));
  if (unknown.length > 0) throw setError('invalidProperties', `cannot be set: ${unknown.join(', ')}`, unknown);
  if (typeof o.identityId !== 'string') throw setError('invalidProperties', 'identityId is required', ['identityId']);
  if (typeof o.emailId !== 'string') throw setError('invalidProperties', 'emailId is required', ['emailId']);
  const identityAddress = addressOfIdentity(o.identityId);
  const identities = await ctx.identities.list(ctx.account.mailboxId);
  const own = identities.find((i) => i.address === identityAddress);
  if (!own) throw setError('invalidProperties', `no identity ${o.identityId}`, ['identityId']);

  const emailId = resolveId(o.emailId, ctx);
  const rowId = messageIdOfEmail(emailId);
  const [record] = rowId ? await ctx.store.messagesById(ctx.account.mailboxId, [rowId], { withSummary: false, withSource: true }) : [];
  if (!record) throw setError('invalidProperties', `no email ${emailId}`, ['emailId']);
  const source = await ctx.store.readMessage(record);
  const headers = parseMessage(source).headers;
  const list = (name: string) => {
    const raw = lastHeader(headers, name);
    return raw === null ? [] : addresses(raw).map((a) => a.email).filter((e): e is string => !!e);
  };

  let mailFrom = own.address;
  let rcptTo = [...list('to'), ...list('cc'), ...list('bcc')];
  if (o.envelope !== undefined && o.envelope !== null) {
    const env = o.envelope as { mailFrom?: { email?: unknown }; rcptTo?: Array<{ email?: unknown }> };
    if (typeof env !== 'object' || typeof env.mailFrom?.email !== 'string' || !Array.isArray(env.rcptTo) || env.rcptTo.some((r) => typeof r?.email !== 'string')) {
      throw setError('invalidProperties', 'envelope needs mailFrom.email and rcptTo[].email', ['envelope']);
    }
    mailFrom = env.mailFrom.email;
    rcptTo = env.rcptTo.map((r) => r.email as string);
  }
  if (rcptTo.length === 0) throw setError('noRecipients', 'the email has no To, Cc or Bcc address and no envelope was given');
  const { id } = await ctx.sender.send({ mailboxId: ctx.account.mailboxId, address: ctx.account.name, mailFrom, rcptTo, message: withoutBcc(source) });
  const submission = {
    id, identityId: o.identityId, emailId, threadId: threadIdOf(record.threadId ?? record.id),
    envelope: { mailFrom: { email: mailFrom, parameters: null }, rcptTo: rcptTo.map((email) => ({ email, parameters: null })) },
    sendAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), undoStatus: 'final', deliveryStatus: null, dsnBlobIds: [], mdnBlobIds: [],
  };
  // Sent is sent: a failure to remember it only hides it from EmailSubmission/get.
  await ctx.sender.remember(ctx.account.accountId, submission).catch(() => undefined);
  return { id, emailId, record: submission };
}

/** The message as sent: its Bcc: fields removed (the recipients are in the envelope only). */
function withoutBcc(source: Buffer): Buffer {
  let end = source.indexOf('\r\n\r\n');
  if (end < 0) end = source.length;
  const head = source.subarray(0, end).toString('latin1');
  const kept = head.split(/\r\n(?![ \t])/).filter((field) => !/^bcc\s*:/i.test(field)).join('\r\n');
  return Buffer.concat([Buffer.from(kept, 'latin1'), source.subarray(end)]);
}

function asSetError(err: unknown): SetError {
  if (err && typeof err === 'object' && 'type' in err && !(err instanceof Error)) return err as SetError;
  throw err;
}
