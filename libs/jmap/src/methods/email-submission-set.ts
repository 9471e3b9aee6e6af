/**
 * EmailSubmission/set create (RFC 8621 §7.5): an email of the account sent as one of its identities, the envelope
 * given or taken from the message (From's identity; To, Cc and Bcc), through the submission service. Sent at once
 * (undoStatus final), or held in the spool until a later time (undoStatus pending) given as RFC 4865 FUTURERELEASE
 * parameters of envelope.mailFrom (`HOLDFOR` seconds or `HOLDUNTIL` date-time) or as `sendAt` on create, at most
 * maxDelayedSend seconds ahead. update {undoStatus: "canceled"} takes a pending one's message out of the spool;
 * destroy forgets a submission (never its message). onSuccessUpdateEmail / onSuccessDestroyEmail run as an implicit
 * Email/set whose response follows this one.
 */
import { SUBMISSION } from '../capabilities';
import { checkAccount, optionalObject, optionalStringList, resolveId } from '../args';
import { MethodError, setError, type SetError } from '../errors';
import { lastHeader, parseMessage } from '../email-parser';
import { messageIdOfEmail, threadIdOf } from '../email-view';
import { addresses } from '../header-forms';
import { addressOfIdentity } from '../identities';
import type { Args, JmapMethod, MethodContext } from '../method';
import type { StoredSubmission } from '../submissions';
import { parseSetRequest } from '../set-request';
import { emailSet } from './email-set';

export const emailSubmissionSet: JmapMethod = {
  name: 'EmailSubmission/set',
  capability: SUBMISSION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    if (!ctx.sender || !ctx.identities) throw new MethodError('accountNotSupportedByMethod', 'this server cannot send mail over JMAP');
    const request = parseSetRequest(args, ctx);
    await ctx.sender.settle(ctx.account.mailboxId);
    const oldState = await ctx.sender.state(ctx.account.mailboxId);
    if (request.ifInState !== undefined && request.ifInState !== oldState) throw new MethodError('stateMismatch', `the state is ${oldState}`);
    const onSuccessUpdate = optionalObject(args, 'onSuccessUpdateEmail') ?? {};
    const onSuccessDestroy = optionalStringList(args, 'onSuccessDestroyEmail') ?? [];
    const created: Record<string, Record<string, unknown>> = {};
    const notCreated: Record<string, SetError> = {};
    const emailOf = new Map<string, string>();
    for (const [cid, object] of request.create) {
      try {
        const { id, emailId, record } = await submit(ctx, object);
        created[cid] = { id, undoStatus: record.undoStatus, sendAt: record.sendAt, threadId: record.threadId };
        ctx.createdIds.set(cid, id);
        emailOf.set(id, emailId);
      } catch (err) {
        notCreated[cid] = asSetError(err);
      }
    }
    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    for (const [key, patch] of request.update) {
      const id = resolveId(key, ctx);
      const other = Object.keys(patch).filter((k) => k !== 'undoStatus');
      if (other.length > 0 || patch.undoStatus !== 'canceled') {
        notUpdated[key] = setError('invalidProperties', 'only undoStatus may be changed, and only to "canceled"', other.length > 0 ? other : ['undoStatus']);
        continue;
      }
      const outcome = await ctx.sender!.cancel(ctx.account.mailboxId, id);
      if (outcome === 'canceled') updated[id] = null;
      else if (outcome === 'notFound') notUpdated[key] = setError('notFound', `no submission ${id}`);
      else notUpdated[key] = setError('cannotUnsend', 'the message has been released for delivery: it can no longer be canceled');
    }
    const destroyed: string[] = [];
    const notDestroyed: Record<string, SetError> = {};
    for (const key of request.destroy) {
      const id = resolveId(key, ctx);
      if (await ctx.sender!.destroy(ctx.account.mailboxId, id)) destroyed.push(id);
      else notDestroyed[key] = setError('notFound', `no submission ${id}`);
    }
    const newState = await ctx.sender!.state(ctx.account.mailboxId);

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
    const response: Args = { accountId: ctx.account.accountId, oldState, newState, created, updated, destroyed, notCreated, notUpdated, notDestroyed };
    if (Object.keys(update).length > 0 || destroy.length > 0) {
      ctx.followUps?.push(['Email/set', await emailSet.run({ accountId: ctx.account.accountId, update, destroy }, ctx)]);
    }
    return response;
  },
};

async function submit(ctx: MethodContext, o: Record<string, unknown>): Promise<{ id: string; emailId: string; record: StoredSubmission }> {
  const sender = ctx.sender!;
  const unknown = Object.keys(o).filter((k) => !['identityId', 'emailId', 'envelope', 'sendAt', 'undoStatus'].includes(k));
  if (unknown.length > 0) throw setError('invalidProperties', `cannot be set: ${unknown.join(', ')}`, unknown);
  if (typeof o.identityId !== 'string') throw setError('invalidProperties', 'identityId is required', ['identityId']);
  if (typeof o.emailId !== 'string') throw setError('invalidProperties', 'emailId is required', ['emailId']);
  const identityAddress = addressOfIdentity(o.identityId);
  if (o.undoStatus !== undefined && o.undoStatus !== null && o.undoStatus !== 'pending' && o.undoStatus !== 'final') {
    throw setError('invalidProperties', 'undoStatus is set by the server', ['undoStatus']);
  }
  const identities = await ctx.identities!.list(ctx.account.mailboxId);
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
  let hold: Record<string, unknown> | null = null;
  if (o.envelope !== undefined && o.envelope !== null) {
    const env = o.envelope as { mailFrom?: { email?: unknown; parameters?: unknown }; rcptTo?: Array<{ email?: unknown }> };
    if (typeof env !== 'object' || typeof env.mailFrom?.email !== 'string' || !Array.isArray(env.rcptTo) || env.rcptTo.some((r) => typeof r?.email !== 'string')) {
      throw setError('invalidProperties', 'envelope needs mailFrom.email and rcptTo[].email', ['envelope']);
    }
    const parameters = env.mailFrom.parameters;
    if (parameters !== undefined && parameters !== null && (typeof parameters !== 'object' || Array.isArray(parameters))) {
      throw setError('invalidProperties', 'envelope.mailFrom.parameters must be an object', ['envelope/mailFrom/parameters']);
    }
    hold = (parameters as Record<string, unknown> | null | undefined) ?? null;
    mailFrom = env.mailFrom.email;
    rcptTo = env.rcptTo.map((r) => r.email as string);
  }
  const releaseAt = releaseTimeOf(ctx, hold, o.sendAt);
  if (rcptTo.length === 0) throw setError('noRecipients', 'the email has no To, Cc or Bcc address and no envelope was given');
  const { id } = await sender.send({ mailboxId: ctx.account.mailboxId, address: ctx.account.name, mailFrom, rcptTo, message: withoutBcc(source), releaseAt });
  const submission: StoredSubmission = {
    id, identityId: o.identityId, emailId, threadId: threadIdOf(record.threadId ?? record.id),
    envelope: { mailFrom: { email: mailFrom, parameters: null }, rcptTo: rcptTo.map((email) => ({ email, parameters: null })) },
    sendAt: utc(releaseAt ?? new Date()), undoStatus: releaseAt ? 'pending' : 'final',
  };
  // The message is spooled (held or on its way) whatever happens next: a failure to record the submission only
  // hides it from EmailSubmission/get and its undo; the held message is still released at its time.
  await sender.record(ctx.account.mailboxId, submission).catch(() => undefined);
  return { id, emailId, record: submission };
}

const utc = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The release time asked for: RFC 4865's HOLDFOR (seconds) or HOLDUNTIL (RFC 3339 date-time) among envelope.mailFrom's
 * parameters, or sendAt on create; null for "at once" (none given, or a time not ahead). More than maxDelayedSend
 * ahead, or unreadable, is invalidProperties.
 */
function releaseTimeOf(ctx: MethodContext, parameters: Record<string, unknown> | null, sendAt: unknown): Date | null {
  const max = ctx.limits.maxDelayedSend;
  const keys = Object.keys(parameters ?? {}).map((k) => k.toUpperCase());
  const other = keys.filter((k) => k !== 'HOLDFOR' && k !== 'HOLDUNTIL');
  if (other.length > 0) throw setError('invalidProperties', `unsupported MAIL FROM parameters: ${other.join(', ')} (HOLDFOR and HOLDUNTIL are)`, ['envelope/mailFrom/parameters']);
  const param = (name: string) => Object.entries(parameters ?? {}).find(([k]) => k.toUpperCase() === name)?.[1];
  const holdFor = param('HOLDFOR');
  const holdUntil = param('HOLDUNTIL');
  const given = [holdFor, holdUntil, sendAt].filter((v) => v !== undefined && v !== null);
  if (given.length === 0) return null;
  const path = sendAt !== undefined && sendAt !== null ? 'sendAt' : 'envelope/mailFrom/parameters';
  if (given.length > 1) throw setError('invalidProperties', 'give one of HOLDFOR, HOLDUNTIL or sendAt', [path]);
  if (max <= 0) throw setError('invalidProperties', 'delayed sending is turned off on this server (maxDelayedSend is 0)', [path]);
  let at: number;
  if (holdFor !== undefined && holdFor !== null) {
    if (typeof holdFor !== 'string' && typeof holdFor !== 'number') throw setError('invalidProperties', 'HOLDFOR is a number of seconds', [path]);
    if (!/^\d{1,9}$/.test(String(holdFor))) throw setError('invalidProperties', 'HOLDFOR is a number of seconds (at most 9 digits)', [path]);
    at = Date.now() + Number(holdFor) * 1000;
  } else {
    const value = holdUntil ?? sendAt;
    const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
    if (typeof value !== 'string' || !rfc3339.test(value) || Number.isNaN(Date.parse(value))) {
      throw setError('invalidProperties', `${path === 'sendAt' ? 'sendAt' : 'HOLDUNTIL'} must be a date-time like 2026-12-24T08:00:00Z`, [path]);
    }
    at = Date.parse(value);
  }
  if (at > Date.now() + max * 1000) throw setError('invalidProperties', `at most ${max} seconds ahead (maxDelayedSend)`, [path]);
  // Not ahead (or within a second): sent at once, as RFC 4865 releases a message whose time has come.
  return at > Date.now() + 1000 ? new Date(Math.ceil(at / 1000) * 1000) : null;
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
