/**
 * One outbound job: the remote recipients of one spooled message at one destination domain that are due.
 * Claim them (a lease, so a duplicate job or the sweeper finds nothing to do), route, DKIM-sign, send (one
 * transaction per envelope sender: forwarded copies leave with their SRS sender), then in one transaction
 * record each recipient's outcome, the attempt in mail_log and any DSN (one final bounce for the recipients
 * that failed for good, one delay notice after the first temporary failure that is old enough, one "relayed"
 * notice for NOTIFY=SUCCESS recipients handed to a host without DSN), so a crash never sends a notice twice
 * or loses one. Notices go to the message's own sender, never to an SRS address.
 */
import type { ConnectionOptions } from 'node:tls';
import { Readable } from 'node:stream';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { OutboundJob } from '@dizi/contracts/queues';
import { domainKey } from '@dizi/domain/lookup-key';
import type { BlobStore } from '@dizi/mail-store/ports/blob-store';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import { readHeaderBlock, statusFromReply, type DsnRecipient } from '@dizi/smtp/dsn';
import { dkimSignatureHeader } from '@dizi/smtp/outbound/dkim-signature';
import { dkimKeyField, openKeyAtRest } from '@dizi/auth/keys-at-rest';
import type { SecretBox } from '@dizi/auth/secret-box';
import { DestinationError, type MxResolver } from '@dizi/smtp/outbound/mx-lookup';
import { describeTls, sendThroughHosts, type OutboundEnvelope, type RecipientResult, type SessionResult } from '@dizi/smtp/outbound/smtp-session';
import type { MailLogEntry } from '../ports/mail-log';
import type { DirectoryStore, SendingDomain } from '../ports/directory-store';
import type { ClaimedRecipient, OutboundAttempt, SpoolStore } from '../ports/spool-store';
import { primaryRoute, relayConfigured, relayRoute, type OutboundRoute } from './outbound-route';
import { prepareBounce, type BounceOriginal, type PreparedBounce } from './spool-bounce';

export interface OutboundLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface OutboundDeps {
  spool: SpoolStore;
  directory: DirectoryStore;
  blobs: BlobStore;
  store: Pick<MessageStore, 'putBlob'>;
  settings: () => SmtpSettings;
  resolver: MxResolver;
  /** This node's name: EHLO when the sender domain has no HELO name, Reporting-MTA, mail_log node. */
  hostname: string;
  logger: OutboundLogger;
  /** Port of MX hosts (25; tests point it at their fake server). */
  mxPort?: number;
  /** A delay notice goes out once a recipient still waits this long after arrival (default: setting delayNoticeAfterMinutes). */
  delayNoticeAfterMs?: number;
  /** How long a claim keeps the sweeper away; a crashed worker's recipients are retried after it (default: setting outboundClaimLeaseSeconds). */
  claimLeaseMs?: number;
  tlsOptions?: ConnectionOptions;
  /** Opens the sealed DKIM keys (libs/auth/src/keys-at-rest.ts); without it only a key an earlier release left plain signs. */
  secretBox?: SecretBox;
  connectTimeoutMs?: number;
  socketTimeoutMs?: number;
  now?: () => Date;
}


/** The recipients that leave with one envelope sender, and what that sender's domain makes of the message. */
interface SenderGroup {
  mailFrom: string;
  recipients: ClaimedRecipient[];
  heloName: string;
  /** DKIM-Signature header of the sender's domain, or ''. */
  signature: string;
  tenantId: string | null;
}

interface Outcome extends RecipientResult {
  /** Host that gave the answer (Remote-MTA), when one did. */
  remoteMta?: string;
  /** Enhanced status for a DSN. */
  status: string;
  /** The accepting host has DSN: it reports success from here on (RFC 3461 §5.2.2), we don't. */
  nextHopDsn?: boolean;
}

export interface OutboundJobResult {
  claimed: number;
  delivered: number;
  deferred: number;
  bounced: number;
  /** Spool ids of the DSNs this job spooled, with where they go. */
  notices: Array<{ id: string; local: boolean; domain: string }>;
}

const NONE: OutboundJobResult = { claimed: 0, delivered: 0, deferred: 0, bounced: 0, notices: [] };

/** NOTIFY of RFC 3461; absent means failures and delays are reported, success is not. */
function notifies(dsnNotify: string | null, what: 'SUCCESS' | 'FAILURE' | 'DELAY'): boolean {
  if (!dsnNotify) return what !== 'SUCCESS';
  const list = dsnNotify.toUpperCase().split(/[\s,]+/);
  return !list.includes('NEVER') && list.includes(what);
}

function sessionLog(deps: OutboundDeps, route: OutboundRoute['kind'], session: SessionResult, base: Partial<MailLogEntry>): MailLogEntry[] {
  // TLS version, cipher and whether the certificate verified, so operators can see what each attempt had.
  const tls = session.tls ? ` ${describeTls(session.tlsDetails)}` : '';
  return session.recipients.map((r) => ({
    level: r.outcome === 'accepted' ? 'info' : r.outcome === 'deferred' ? 'warn' : 'error',
    kind: 'outbound',
    node: deps.hostname,
    result: r.outcome === 'accepted' ? 'delivered' : r.outcome,
    reason: `${route} ${session.host.name}[${session.host.address}]:${session.host.port}${tls}: ${r.reply}`,
    recipients: [r.address],
    ...base,
  }));
}

/** The DSN parameters of the original submission for the next hop (RFC 3461 §5.2.1). */
function dsnParameters(message: { env_id: string | null; dsn_ret: 'FULL' | 'HDRS' | null }, recipients: ClaimedRecipient[]): OutboundEnvelope['dsn'] {
  const perRecipient = new Map<string, { notify: string | null; orcpt: string | null }>();
  for (const r of recipients) if (r.dsn_notify || r.original_address) perRecipient.set(r.address, { notify: r.dsn_notify, orcpt: r.original_address });
  if (!message.env_id && !message.dsn_ret && perRecipient.size === 0) return undefined;
  return { ret: message.dsn_ret, envid: message.env_id, recipients: perRecipient };
}

/** The DKIM-Signature header of the sender's domain for this message ('' when it has no key or signing fails). */
async function signatureOf(deps: OutboundDeps, message: { id: string; blob_hash: string }, sender: SendingDomain | undefined, at: Date): Promise<string> {
  if (!sender?.dkimPrivateKey) return '';
  try {
    const privateKey = openKeyAtRest(deps.secretBox, sender.dkimPrivateKey, dkimKeyField(sender.id));
    return await dkimSignatureHeader(await deps.blobs.get(message.blob_hash), { domain: sender.name, selector: sender.dkimSelector, privateKey }, at);
  } catch (e) {
    // An unsigned message still beats no message; the operator sees why in the log.
    deps.logger.warn({ err: String(e), spoolMessageId: message.id, domain: sender.name }, 'DKIM signing failed, sending unsigned');
    return '';
  }
}

export async function sendOutboundJob(deps: OutboundDeps, job: OutboundJob): Promise<OutboundJobResult> {
  const { spool, directory } = deps;
  const settings = deps.settings();
  const now = () => deps.now?.() ?? new Date();
  const domain = domainKey(job.domain);

  const message = await spool.outboundMessage(job.spoolMessageId);
  if (!message || message.done_at) return NONE;

  const claimed = await spool.claimRemote(job.spoolMessageId, domain, deps.claimLeaseMs !== undefined ? deps.claimLeaseMs / 1000 : settings.outboundClaimLeaseSeconds);
  if (claimed.length === 0) return NONE;

  const mailFrom: string = message.mail_from;
  const size = Number(message.size);

  // The copies of one envelope sender go in one SMTP transaction; the sender's domain gives HELO and DKIM.
  const senderDomains = new Map<string, SendingDomain | undefined>();
  const senderDomainOf = async (address: string): Promise<SendingDomain | undefined> => {
    const name = address.includes('@') ? domainKey(address.slice(address.lastIndexOf('@') + 1)) : '';
    if (!name) return undefined;
    if (!senderDomains.has(name)) {
      senderDomains.set(name, (await directory.sendingDomain(name)) ?? undefined);
    }
    return senderDomains.get(name);
  };
  const groups = new Map<string, SenderGroup>();
  for (const r of claimed) {
    const from = r.mail_from ?? mailFrom;
    let group = groups.get(from);
    if (!group) {
      const sender = await senderDomainOf(from);
      group = { mailFrom: from, recipients: [], heloName: sender?.heloName || deps.hostname, signature: await signatureOf(deps, message, sender, now()), tenantId: sender?.tenantId ?? null };
      groups.set(from, group);
    }
    group.recipients.push(r);
  }
  const tenantId = (await senderDomainOf(mailFrom))?.tenantId ?? [...groups.values()].find((g) => g.tenantId)?.tenantId ?? null;

  const logs: MailLogEntry[] = [];
  const outcomes = new Map<string, Outcome>();
  const pendingOf = (recipients: ClaimedRecipient[]) => recipients.filter((r) => !outcomes.has(r.address) || outcomes.get(r.address)!.outcome === 'deferred');
  const logBaseOf = (g: SenderGroup): Partial<MailLogEntry> => ({ messageId: message.id, mailFrom: g.mailFrom, size: size + g.signature.length, tenantId, helo: g.heloName });

  const attempt = async (route: OutboundRoute, g: SenderGroup, recipients: ClaimedRecipient[]) => {
    const openMessage = async (): Promise<Readable> => {
      const body = await deps.blobs.get(message.blob_hash);
      if (!g.signature) return body;
      const head = Buffer.from(g.signature, 'latin1');
      return Readable.from((async function* () {
        yield head;
        yield* body;
      })());
    };
    const { tried } = await sendThroughHosts(
      route.hosts,
      { heloName: g.heloName, tls: route.tls, auth: route.auth, tlsOptions: deps.tlsOptions, connectTimeoutMs: deps.connectTimeoutMs, socketTimeoutMs: deps.socketTimeoutMs },
      { from: g.mailFrom, to: recipients.map((r) => r.address), size: size + g.signature.length, dsn: dsnParameters(message, recipients) },
      openMessage,
    );
    for (const session of tried) logs.push(...sessionLog(deps, route.kind, session, logBaseOf(g)));
    const last = tried[tried.length - 1];
    for (const r of last.recipients) {
      outcomes.set(r.address, {
        ...r,
        remoteMta: r.code ? last.host.name : undefined,
        status: r.outcome === 'accepted' ? '2.0.0' : statusFromReply(r.code, r.reply),
        nextHopDsn: last.dsn,
      });
    }
  };
  const decideAll = (g: SenderGroup, recipients: ClaimedRecipient[], e: unknown) => {
    const permanent = e instanceof DestinationError && e.permanent;
    const reply = e instanceof Error ? e.message : String(e);
    const status = e instanceof DestinationError ? e.status : '4.4.0';
    for (const r of recipients) outcomes.set(r.address, { address: r.address, outcome: permanent ? 'failed' : 'deferred', reply, status });
    logs.push({ ...logBaseOf(g), level: permanent ? 'error' : 'warn', kind: 'outbound', node: deps.hostname, result: permanent ? 'failed' : 'deferred', reason: reply, recipients: recipients.map((r) => r.address) } as MailLogEntry);
  };

  let route: OutboundRoute | null = null;
  let routeError: unknown = null;
  try {
    route = await primaryRoute(directory, deps.resolver, settings, domain, deps.mxPort);
  } catch (e) {
    routeError = e;
  }
  for (const g of groups.values()) {
    try {
      if (!route) throw routeError;
      await attempt(route, g, g.recipients);
    } catch (e) {
      if (!(e instanceof DestinationError)) deps.logger.error({ err: String(e), spoolMessageId: message.id, domain }, 'outbound attempt failed');
      decideAll(g, g.recipients, e);
    }
    // Relay on failure: what the direct route could not deliver for now goes to the relay in the same attempt.
    const left = pendingOf(g.recipients);
    if (settings.relay.mode === 'on_failure' && relayConfigured(settings) && route?.kind !== 'relay' && route?.kind !== 'transport' && left.length > 0) {
      try {
        await attempt(await relayRoute(deps.resolver, settings), g, left);
      } catch (e) {
        decideAll(g, left, e);
      }
    }
  }

  // Outcomes to rows, and the DSNs they call for.
  const maxAttempts = settings.maxDeliveryAttempts;
  const arrival: Date = message.received_at;
  // A held message waited for its release time by design: the delay notice counts from then.
  const waitedMs = now().getTime() - Math.max(arrival.getTime(), message.release_at ? new Date(message.release_at).getTime() : 0);
  const finalFailures: Array<{ r: ClaimedRecipient; o: Outcome }> = [];
  const delays: Array<{ r: ClaimedRecipient; o: Outcome }> = [];
  const relayed: Array<{ r: ClaimedRecipient; o: Outcome }> = [];
  const result: OutboundJobResult = { claimed: claimed.length, delivered: 0, deferred: 0, bounced: 0, notices: [] };
  const updates: Array<{ r: ClaimedRecipient; o: Outcome; status: OutboundAttempt['status'] }> = [];
  for (const r of claimed) {
    const o = outcomes.get(r.address) ?? { address: r.address, outcome: 'deferred' as const, reply: 'no attempt was made', status: '4.4.0' };
    if (o.outcome === 'accepted') {
      updates.push({ r, o, status: 'delivered' });
      result.delivered++;
      // A next hop with DSN took over the NOTIFY=SUCCESS duty; one without it gets "relayed" from us.
      if (!o.nextHopDsn) relayed.push({ r, o });
    } else if (o.outcome === 'failed' || r.attempts + 1 >= maxAttempts) {
      const status = o.outcome === 'failed' ? 'bounced' : 'failed';
      if (o.outcome === 'deferred') o.reply = `${o.reply} (gave up after ${r.attempts + 1} attempts)`;
      updates.push({ r, o, status });
      finalFailures.push({ r, o });
      result.bounced++;
    } else {
      updates.push({ r, o, status: 'deferred' });
      result.deferred++;
      if (!r.delay_notified && waitedMs >= (deps.delayNoticeAfterMs ?? settings.delayNoticeAfterMinutes * 60_000)) delays.push({ r, o });
    }
  }

  // The null sender gets no notices (RFC 5321 §4.5.5), nor does a recipient whose NOTIFY excludes them.
  const bounces: PreparedBounce[] = [];
  const delayNoticeIds = new Set<string>();
  if (mailFrom !== '') {
    const original: BounceOriginal = {
      id: message.id,
      mailFrom,
      receivedAt: arrival,
      envId: message.env_id,
      ret: message.dsn_ret,
      size: Number(message.size),
      headers: finalFailures.length || delays.length || relayed.length ? await readHeaderBlock(await deps.blobs.get(message.blob_hash)) : Buffer.alloc(0),
      open: () => deps.blobs.get(message.blob_hash),
      messageId: message.message_id_header ?? null,
    };
    const dsnOf = (list: Array<{ r: ClaimedRecipient; o: Outcome }>, action: 'failed' | 'delayed' | 'relayed'): DsnRecipient[] =>
      list.map(({ r, o }) => ({
        finalRecipient: r.address,
        originalRecipient: r.original_address,
        action,
        status: o.status,
        remoteMta: o.remoteMta ?? null,
        diagnostic: o.reply,
        lastAttemptDate: now(),
        willRetryUntil: action === 'delayed' ? new Date(arrival.getTime() + maxAttempts * settings.retryIntervalSeconds * 1000) : null,
      }));
    const failing = finalFailures.filter(({ r }) => notifies(r.dsn_notify, 'FAILURE'));
    if (failing.length) bounces.push(await prepareBounce(deps.store, deps.hostname, original, dsnOf(failing, 'failed'), now()));
    const delaying = delays.filter(({ r }) => notifies(r.dsn_notify, 'DELAY'));
    if (delaying.length) {
      bounces.push(await prepareBounce(deps.store, deps.hostname, original, dsnOf(delaying, 'delayed'), now()));
      for (const { r } of delaying) delayNoticeIds.add(r.id);
    }
    const succeeding = relayed.filter(({ r }) => notifies(r.dsn_notify, 'SUCCESS'));
    if (succeeding.length) bounces.push(await prepareBounce(deps.store, deps.hostname, original, dsnOf(succeeding, 'relayed'), now()));
  }

  await spool.transaction(async (tx) => {
    for (const { r, o, status } of updates) {
      await tx.recordOutboundAttempt({
        recipientId: r.id, status, reply: o.reply.slice(0, 2000),
        retrySeconds: settings.retryIntervalSeconds, delayNotified: delayNoticeIds.has(r.id),
      });
    }
    for (const b of bounces) {
      const spooled = await tx.spoolBounce(b, deps.hostname);
      result.notices.push(spooled);
      const what = b.action === 'delayed' ? 'delay notice' : b.action === 'failed' ? 'non-delivery report' : 'success notice';
      logs.push({
        messageId: message.id, mailFrom, size, tenantId, level: 'info', kind: 'bounce', node: deps.hostname,
        result: b.action === 'delayed' ? 'delay notice' : b.action === 'failed' ? 'bounce' : 'success notice',
        reason: `${what} spooled as ${spooled.id}`, recipients: [b.to],
      } as MailLogEntry);
    }
    await tx.markDoneIfFinal([message.id]);
    await tx.writeMailLog(logs);
  });
  return result;
}
