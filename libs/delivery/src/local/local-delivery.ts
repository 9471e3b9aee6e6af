/**
 * Delivers the due local recipients of one spooled message (one Delivery job). Per recipient: loop checks, expansion
 * (recipient-resolver.ts), then every copy at once through MessageStore.appendMany, then side effects, then the
 * recipient's final state.
 *
 * Crash safety comes from the order, since the store commits its own transaction:
 *   1. remote rows (INSERT … ON CONFLICT DO NOTHING) and every INBOX copy (delivery key `<spoolId>:<mailboxId>`),
 *   2. auto-replies (auto_reply_sent claim + spooled reply in one transaction) and quota warnings (keyed),
 *   3. one transaction: recipient states (only from queued/deferred) + the DSN spooled for those that bounced.
 * A crash before 3 leaves the recipients queued; the sweeper re-runs the job and steps 1–2 are no-ops the second
 * time. A crash after 3 has nothing left to do. So each copy exists exactly once.
 */
import { Readable } from 'node:stream';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { BlobStore, StoredBlob } from '@dizi/mail-store/ports/blob-store';
import { INBOX, QuotaExceededError, type Delivery, type DeliveryOutcome, type FolderRef, type MessageStore } from '@dizi/mail-store/ports/message-store';
import { buildDsn, readHeaderBlock, type DsnRecipient } from '@dizi/smtp/dsn';
import type { Srs } from '@dizi/smtp/srs/srs';
import type { MailLogEntry } from '../ports/mail-log';
import type { DirectoryStore } from '../ports/directory-store';
import type { DueRecipientRow, SpoolMessageRow, SpoolStore, SpooledSystemMail } from '../ports/spool-store';
import { forwardingSenders } from './forward-sender';
import { inspectHeaders, isRobotSender, rewriteToHeader, type DeliveryHeaders } from './message-headers';
import { indexMessage, isCompleteSummary, summarise, summaryLimitsOf, type IndexedMessage, type StoredSummary } from './message-index';
import { filterFolders } from './filter-folder';
import { composeMail } from './notice-templates';
import { RecipientResolver, type Expansion, type MailboxTarget, type SenderIdentity } from './recipient-resolver';
import { successNotices } from './success-notice';
import { ownerOfScript, type SieveScriptStore } from '../ports/sieve-script-store';
import { SIEVE_REDIRECT_HEADER } from './sieve-filter';
import { SieveDelivery, sieveBody, sieveHeaderFields, type SievePlan, type SieveVacation } from './sieve-delivery';

/** RET=FULL returns the whole message only up to this size; bigger ones return their headers. */
const MAX_RETURNED_BYTES = 10 * 1024 * 1024;
/** The header block is looked for in this many first bytes before the message is streamed. */
const HEAD_BYTES = 64 * 1024;

export interface DeliveryEnqueuer {
  enqueueDelivery(spoolMessageId: string, delayMs?: number): Promise<void>;
  enqueueOutbound(spoolMessageId: string, domain: string, attempt?: number, delayMs?: number): Promise<void>;
}

/** Notices the system puts straight into a mailbox (system-notices.ts). */
export interface MailboxNotices {
  sendWelcome(mailboxId: string): Promise<boolean>;
  checkQuota(mailboxIds: string[], percent: number): Promise<void>;
}

export interface DeliveryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LocalDeliveryOptions {
  spool: SpoolStore;
  /** Mailboxes, aliases, groups. */
  directory: DirectoryStore;
  /** Welcome mail and quota warnings (system-notices.ts on PostgreSQL). */
  notices: MailboxNotices;
  store: MessageStore;
  blobs: BlobStore;
  settings: () => SmtpSettings;
  /** Our host name (DSN Reporting-MTA, Message-IDs). */
  hostname: string;
  queues: DeliveryEnqueuer;
  logger?: DeliveryLogger;
  /** Test hook: runs after the copies are stored and before any recipient state is written (crash simulation). */
  afterStore?: (spoolMessageId: string) => Promise<void>;
  /** Rewrites the envelope sender of copies forwarded to remote addresses (forward-sender.ts); none: sent as received. */
  srs?: Srs;
  /** The Sieve scripts (global, domain, mailbox); none: every copy goes to INBOX (or the content filter's folder). */
  sieveScripts?: SieveScriptStore;
  /** The clock of Sieve's currentdate and vacation; injectable for tests. */
  now?: () => Date;
}

type SpoolRow = SpoolMessageRow;
type RecipientRow = DueRecipientRow;

interface Failure {
  status: string;
  reason: string;
  address: string;
}

interface RecipientPlan {
  row: RecipientRow;
  expansion: Expansion | null;
  /** Set when the recipient fails before expansion (loop, hop count). */
  failure: Failure | null;
  /** Mailboxes this recipient stores a copy in; failed ones are marked per mailbox below. */
  targets: MailboxTarget[];
}

type Verdict =
  | { state: 'delivered'; notes: Failure[] }
  | { state: 'deferred'; reason: string }
  | { state: 'bounced'; failure: Failure; notes: Failure[] };

/** What one job ends with: its due recipients, and how many of them reached a final state. */
export interface DeliveryResult {
  due: number;
  finished: number;
}

/** A message of a batch on its way: what it delivers, and once stored, how each mailbox's copy went. */
interface MessageWork {
  msg: SpoolRow;
  due: RecipientRow[];
  headers: DeliveryHeaders;
  plans: RecipientPlan[];
  /** Remote destinations reached through expansion → the local recipient that led there. */
  remote: Map<string, string>;
  loopBlocked: Set<string>;
  deliveries: Delivery[];
  /** By mailbox id. */
  outcomes: Map<string, DeliveryOutcome>;
  sieve: SieveWork;
}

/** What the Sieve scripts decided for a message's mailboxes, beyond the copies (sieve-delivery.ts). */
interface SieveWork {
  /** Mailboxes whose scripts disposed of the message without a copy (discard, redirect): delivered all the same. */
  done: Set<string>;
  /** Mailbox id → the reject reason. */
  rejects: Map<string, string>;
  /** Redirected messages, spooled in the transaction that settles the recipients. */
  mail: Array<{ blob: StoredBlob; mailFrom: string; to: string[] }>;
  vacations: Array<{ target: MailboxTarget; action: SieveVacation }>;
  /** Mail log lines: which scripts ran, their errors and notes. */
  log: string[];
}

interface Settlement {
  verdicts: Verdict[];
  /** Recipient row ids. */
  delivered: string[];
  deferred: Array<{ row: RecipientRow; reason: string }>;
  bounced: Array<{ row: RecipientRow; failure: Failure }>;
  /** NOTIFY=SUCCESS notices due for delivered recipients. */
  successes: DsnRecipient[];
}

const NOOP_LOGGER: DeliveryLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export class LocalDelivery {
  readonly notices: MailboxNotices;
  private readonly logger: DeliveryLogger;
  private readonly directory: DirectoryStore;
  private readonly spool: SpoolStore;
  private readonly sieve: SieveDelivery;

  constructor(private readonly o: LocalDeliveryOptions) {
    this.sieve = new SieveDelivery(o.store);
    this.directory = o.directory;
    this.spool = o.spool;
    this.notices = o.notices;
    this.logger = o.logger ?? NOOP_LOGGER;
  }

  /** Runs one job; returns how many recipients it finished. Errors defer the due recipients instead of throwing. */
  async deliverMessage(spoolMessageId: string): Promise<DeliveryResult> {
    const [result] = await this.deliverMessages([spoolMessageId]);
    return result;
  }

  /**
   * Runs several jobs as one batch (the delivery worker's group commit): every copy of every message is stored in one
   * store transaction, and the recipients of the messages delivered in full are settled in one statement. Each
   * message still fails alone: its due recipients are deferred and the others go on. One result per id, in order.
   */
  async deliverMessages(spoolMessageIds: string[]): Promise<DeliveryResult[]> {
    const unique = [...new Set(spoolMessageIds)];
    const rows = await this.spool.messagesWithDueLocal(unique);
    const found = new Map(rows.map((r) => [r.id, r]));
    const results = new Map<string, DeliveryResult>();
    const idle: string[] = [];
    const batch: Array<{ msg: SpoolRow; due: RecipientRow[] }> = [];
    for (const id of unique) {
      const msg = found.get(id);
      if (!msg || msg.done_at) {
        results.set(id, { due: 0, finished: 0 });
      } else if (!msg.due?.length) {
        idle.push(id);
        results.set(id, { due: 0, finished: 0 });
      } else {
        batch.push({ msg, due: msg.due });
      }
    }
    if (idle.length > 0) await this.spool.markDoneIfFinal(idle);
    if (batch.length > 0) for (const [id, r] of await this.deliverBatch(batch)) results.set(id, r);
    return spoolMessageIds.map((id) => results.get(id)!);
  }

  private async deliverBatch(items: Array<{ msg: SpoolRow; due: RecipientRow[] }>): Promise<Map<string, DeliveryResult>> {
    const settings = this.o.settings();
    const results = new Map<string, DeliveryResult>();
    const fail = async (w: { msg: SpoolRow; due: RecipientRow[] }, err: unknown): Promise<null> => {
      this.logger.error({ err, spoolMessageId: w.msg.id }, 'local delivery failed; recipients deferred');
      await this.deferAll(w.due, err instanceof Error ? err.message : String(err)).catch((e) =>
        this.logger.error({ err: e, spoolMessageId: w.msg.id }, 'could not defer recipients; the sweeper retries'));
      results.set(w.msg.id, { due: w.due.length, finished: 0 });
      return null;
    };

    // 1. What each message delivers: expansion of its due recipients, remote rows, the copies.
    const resolver = new RecipientResolver(this.directory);
    // A failed prefetch only costs round trips: every lookup is made again as the walk meets it.
    await resolver.prefetch(items.flatMap((w) => [w.msg.mail_from, ...w.due.map((r) => r.address)])).catch((err) =>
      this.logger.warn({ err }, 'recipient prefetch failed'));
    const planned = await Promise.all(items.map((w) => this.plan(w.msg, w.due, resolver, settings).catch((err) => fail(w, err))));

    // 2. Every copy of the batch at once (each copy idempotent by its delivery key).
    const stored = await this.storeCopies(planned.filter((w) => w !== null), fail);

    // 3. Side effects, each idempotent on its own (see the file comment), then the verdicts.
    const judged = await Promise.all(stored.map(async (w) => {
      try {
        if (this.o.afterStore) await this.o.afterStore(w.msg.id);
        const spooled = await this.autoReplies(w);
        return { w, spooled };
      } catch (err) {
        return fail(w, err);
      }
    }));
    const live = judged.filter((j) => j !== null);
    const fresh = live.flatMap(({ w }) => [...w.outcomes.entries()].filter(([, o]) => o.ok && !o.duplicate).map(([id]) => id));
    await this.notices.checkQuota([...new Set(fresh)], settings.quotaWarningPercent).catch((err) =>
      this.logger.warn({ err }, 'quota warning failed'));

    // 4. Recipient states: the messages delivered in full in one statement, the others one transaction each.
    const logs: MailLogEntry[] = [];
    const complete: Array<{ w: MessageWork; spooled: SpooledSystemMail[]; outcome: Settlement }> = [];
    const finals: Array<{ w: MessageWork; spooled: SpooledSystemMail[]; finished: number }> = [];
    for (const { w, spooled } of live) {
      const outcome = settlementOf(w, settings);
      if (outcome.deferred.length === 0 && outcome.bounced.length === 0 && outcome.successes.length === 0 && w.sieve.mail.length === 0) complete.push({ w, spooled, outcome });
      else {
        try {
          const mixed = await this.settleMixed(w, outcome, settings);
          finals.push({ w, spooled: [...spooled, ...mixed.spooled], finished: mixed.finished });
          logs.push(...this.logEntries(w, outcome));
        } catch (err) {
          await fail(w, err);
        }
      }
    }
    const counts = await this.settleDelivered(complete.map((c) => ({ w: c.w, logs: this.logEntries(c.w, c.outcome) })), fail);
    for (const { w, spooled } of complete) {
      const finished = counts.get(w.msg.id);
      if (finished === undefined) continue; // failed, and deferred by `fail`
      finals.push({ w, spooled, finished });
    }
    await this.spool.writeMailLog(logs).catch((err) => this.logger.warn({ err }, 'mail log write failed'));

    await Promise.all(finals.map(({ w, spooled, finished }) => {
      results.set(w.msg.id, { due: w.due.length, finished });
      return this.enqueueAfterCommit(w.msg.id, [...new Set([...w.remote.keys()].map((a) => a.slice(a.lastIndexOf('@') + 1)))], spooled);
    }));
    return results;
  }

  /** Expands the due recipients of one message and decides its copies (nothing is stored yet but remote rows). */
  private async plan(msg: SpoolRow, due: RecipientRow[], resolver: RecipientResolver, settings: SmtpSettings): Promise<MessageWork> {
    const headers = inspectHeaders(await this.headerBlock(msg.blob_hash));
    const indexed = indexMessage(await this.summaryOf(msg), msg.keys_spooled ? { spoolMessageId: msg.id } : undefined);
    const sender: SenderIdentity = {
      address: msg.mail_from.toLowerCase(),
      authenticated: msg.auth_mailbox_id !== null,
      isLocal: msg.auth_mailbox_id !== null || (await resolver.isLocalMailbox(msg.mail_from)),
      xLoop: headers.xLoop,
    };

    // Expansion of every due recipient.
    const plans: RecipientPlan[] = [];
    for (const row of due) {
      const plan: RecipientPlan = { row, expansion: null, failure: null, targets: [] };
      if (headers.receivedCount > settings.maxHops) {
        plan.failure = { address: row.address, status: '5.4.6', reason: `too many hops: ${headers.receivedCount} Received lines (limit ${settings.maxHops}), a mail loop` };
      } else if (headers.deliveredTo.has(row.address.toLowerCase())) {
        plan.failure = { address: row.address, status: '5.4.6', reason: `mail loop: the message was already delivered to ${row.address}` };
      } else {
        plan.expansion = await resolver.expand(row.address, sender);
        plan.targets = [...plan.expansion.mailboxes.values()];
      }
      plans.push(plan);
    }

    // Remote destinations (alias, group members, forwards) join this message as remote recipients.
    const remote = new Map<string, string>();
    for (const p of plans) for (const a of p.expansion?.remotes ?? []) if (!remote.has(a)) remote.set(a, p.row.address);
    if (remote.size > 0) {
      // Forwarded copies leave with an SRS sender in the forwarding address's domain (forward-sender.ts).
      const senders = await forwardingSenders(this.directory, this.o.srs, msg.mail_from, remote);
      await this.spool.addRemoteRecipients(msg.id, [...remote].map(([address, originalAddress], i) => ({ address, originalAddress, mailFrom: senders[i] })));
    }

    // One copy per mailbox, whichever recipients lead to it; a Delivered-To already naming it is a loop.
    const copies = new Map<string, MailboxTarget>();
    const loopBlocked = new Set<string>();
    for (const p of plans) {
      for (const t of p.targets) {
        if (!t.store) continue;
        if (headers.deliveredTo.has(t.address)) loopBlocked.add(t.mailboxId);
        else if (!copies.has(t.mailboxId)) copies.set(t.mailboxId, t);
      }
    }
    const deliveries: Delivery[] = [];
    const filed = await filterFolders(this.directory, msg.filter_folder, [...copies.keys()]);
    const sieve: SieveWork = { done: new Set(), rejects: new Map(), mail: [], vacations: [], log: [] };
    const scripts = this.o.sieveScripts && copies.size > 0 ? await this.o.sieveScripts.activeScripts([...copies.keys()]) : new Map();
    for (const t of copies.values()) {
      const sievePlan = scripts.has(t.mailboxId) ? await this.sievePlan(msg, headers, t, scripts.get(t.mailboxId)!, filed.get(t.mailboxId) ?? null, settings, sieve) : null;
      if (sievePlan && sievePlan.stores.length === 0) {
        if (sievePlan.reject !== null) sieve.rejects.set(t.mailboxId, sievePlan.reject);
        else sieve.done.add(t.mailboxId);
        continue;
      }
      const head = sievePlan?.editedHead ? t.rewriteTo ? rewriteToHeader(sievePlan.editedHead, t.rewriteTo) : sievePlan.editedHead : t.rewriteTo ? rewriteToHeader(headers.raw, t.rewriteTo) : null;
      const variant = head ? await this.copyWithHead(msg, headers, head) : null;
      const index = variant?.indexed ?? indexed;
      const stores = sievePlan?.stores ?? [{ folder: filed.get(t.mailboxId) ?? { name: INBOX }, label: '', flags: [] as string[] }];
      stores.forEach((place, i) => deliveries.push({
        mailboxId: t.mailboxId,
        folder: place.folder,
        enforceQuota: true,
        message: {
          blobHash: variant?.blob.hash ?? msg.blob_hash,
          headerPrefix: `Return-Path: <${msg.mail_from}>\r\nDelivered-To: ${t.address}\r\n${msg.filter_headers ?? ''}`,
          internalDate: msg.received_at,
          summary: index.summary,
          sortFields: index.sortFields,
          searchKeys: index.searchKeys,
          ...(place.flags.length > 0 ? { flags: place.flags } : {}),
          // The first copy keeps the key it had before Sieve; more copies (fileinto :copy) are keyed by folder.
          deliveryKey: i === 0 ? `${msg.id}:${t.mailboxId}` : `${msg.id}:${t.mailboxId}:${place.label}`,
        },
      }));
    }
    return { msg, due, headers, plans, remote, loopBlocked, deliveries, outcomes: new Map(), sieve };
  }

  /** Runs the mailbox's scripts and prepares what they asked for beyond the copies (redirects, vacation, log). */
  private async sievePlan(
    msg: SpoolRow, headers: DeliveryHeaders, t: MailboxTarget, scripts: Parameters<SieveDelivery['plan']>[0]['scripts'],
    filterFolder: FolderRef | null, settings: SmtpSettings, work: SieveWork,
  ): Promise<SievePlan> {
    const limits = { maxActions: settings.sieveMaxActions, maxRedirects: settings.sieveMaxRedirects, maxScriptSize: settings.sieveMaxScriptSize };
    let body: Awaited<ReturnType<typeof sieveBody>> | undefined;
    if (this.sieve.filter.needsBody(scripts, limits)) body = await sieveBody(await this.wholeMessage(msg.blob_hash));
    // `include` may name scripts that are not active: those of the including script's owner, and the global ones.
    let includes: Parameters<SieveDelivery['plan']>[0]['includes'];
    const including = this.sieve.filter.including(scripts, limits);
    if (including.length > 0 && this.o.sieveScripts) {
      const store = this.o.sieveScripts;
      const global = await store.contents({ level: 'global' });
      const personal = new Map<string, Map<string, string>>();
      for (const s of including) if (!personal.has(s.id)) personal.set(s.id, s.level === 'global' ? global : await store.contents(ownerOfScript(s)));
      includes = (s) => ({ personal: personal.get(s.id) ?? new Map(), global });
    }
    const plan = await this.sieve.plan({
      scripts,
      includes,
      mailbox: { mailboxId: t.mailboxId, address: t.address, filterFolder },
      message: { size: Number(msg.size), envelope: { from: msg.mail_from, to: t.address } },
      headers: sieveHeaderFields(headers.raw),
      body,
      limits,
      now: this.o.now,
    });
    const d = plan.decision;
    const line = [`${t.address}: sieve ${d.ran.join(', ') || '(none ran)'}`, ...d.errors.map((e) => `error: ${e}`), ...d.notes, ...plan.notes].join('; ');
    work.log.push(line);
    if (d.errors.length > 0) this.logger.warn({ mailboxId: t.mailboxId, spoolMessageId: msg.id, errors: d.errors }, 'sieve script failed; message kept');
    if (plan.vacation) work.vacations.push({ target: t, action: plan.vacation });
    if (plan.redirects.length > 0) {
      // The redirected message: our loop header, then the message as the scripts left it.
      const head = Buffer.concat([Buffer.from(`${SIEVE_REDIRECT_HEADER}: ${t.address}\r\n`), plan.editedHead ?? headers.raw]);
      const blob = (await this.copyWithHead(msg, headers, head, false)).blob;
      const senders = await forwardingSenders(this.directory, this.o.srs, msg.mail_from, new Map(plan.redirects.map((a) => [a.toLowerCase(), t.address])));
      plan.redirects.forEach((to, i) => work.mail.push({ blob, mailFrom: senders[i] ?? msg.mail_from, to: [to] }));
    }
    return plan;
  }

  private async wholeMessage(blobHash: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.o.blobs.get(blobHash)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** The message's header block: usually within its first bytes, read in one go; else streamed as far as it goes. */
  private async headerBlock(blobHash: string): Promise<Buffer> {
    const head = await this.o.blobs.read(blobHash, { start: 0, end: HEAD_BYTES - 1 });
    if (head.length < HEAD_BYTES || head.includes('\r\n\r\n') || head.includes('\n\n')) return readHeaderBlock(Readable.from([head]));
    return readHeaderBlock(await this.o.blobs.get(blobHash));
  }

  /** appendMany for the whole batch; if that fails, each message alone, so one message's trouble stays its own. */
  private async storeCopies(work: MessageWork[], fail: (w: MessageWork, err: unknown) => Promise<null>): Promise<MessageWork[]> {
    const record = (ws: MessageWork[], results: DeliveryOutcome[]) => {
      let k = 0;
      for (const w of ws) {
        for (const d of w.deliveries) {
          // A mailbox with several copies (fileinto :copy) counts as its worst copy: a failed one is retried.
          const r = results[k++];
          if (!w.outcomes.get(d.mailboxId) || !r.ok) w.outcomes.set(d.mailboxId, r);
        }
      }
    };
    const all = work.flatMap((w) => w.deliveries);
    if (all.length === 0) return work;
    try {
      record(work, await this.o.store.appendMany(all));
      return work;
    } catch (err) {
      if (work.length === 1) return (await fail(work[0], err)) ?? [];
    }
    const stored: MessageWork[] = [];
    for (const w of work) {
      try {
        if (w.deliveries.length > 0) record([w], await this.o.store.appendMany(w.deliveries));
        stored.push(w);
      } catch (err) {
        await fail(w, err);
      }
    }
    return stored;
  }

  /** RFC 3834 replies of the mailboxes that received the message (each mailbox once, never through a group). */
  private async autoReplies(w: MessageWork): Promise<SpooledSystemMail[]> {
    const spooled: SpooledSystemMail[] = [];
    const replied = new Set<string>();
    for (const p of w.plans) {
      for (const t of p.targets) {
        const outcome = w.outcomes.get(t.mailboxId);
        const received = t.store ? outcome?.ok === true : true;
        if (!received || t.viaGroup || replied.has(t.mailboxId)) continue;
        replied.add(t.mailboxId);
        if (!t.settings?.autoReplyEnabled) continue;
        const reply = await this.autoReply(t, w.msg, w.headers).catch((err) => {
          this.logger.warn({ err, mailboxId: t.mailboxId }, 'auto-reply failed');
          return null;
        });
        if (reply) spooled.push(reply);
      }
    }
    for (const v of w.sieve.vacations) {
      if (replied.has(`sieve:${v.target.mailboxId}`) || v.target.viaGroup) continue;
      replied.add(`sieve:${v.target.mailboxId}`);
      const reply = await this.vacationReply(v.target, v.action, w.msg, w.headers).catch((err) => {
        this.logger.warn({ err, mailboxId: v.target.mailboxId }, 'sieve vacation reply failed');
        return null;
      });
      if (reply) spooled.push(reply);
    }
    return spooled;
  }

  /** Summary of the spooled message: from the spool row, or computed once and kept there. */
  private async summaryOf(msg: SpoolRow): Promise<StoredSummary> {
    if (isCompleteSummary(msg.summary, msg.keys_spooled)) return msg.summary;
    const summary = await summarise(await this.o.blobs.get(msg.blob_hash), summaryLimitsOf(this.o.settings()));
    await this.spool.saveSummary(msg.id, summary);
    return summary;
  }

  /**
   * The message with another header block: its To header naming the member, or as editheader left it. The blob is shared and the per-copy header prefix can only
   * add lines, and a second To header is invalid (RFC 5322 allows one) and shown differently by each client: so
   * the cheapest correct way is a variant blob per member — the rewritten header block followed by the original
   * body streamed from the store, content-addressed, so a retry produces the same blob and no extra copy. It costs
   * one blob per member, paid only by groups that ask for rewriting.
   */
  private async copyWithHead(msg: SpoolRow, headers: DeliveryHeaders, head: Buffer, index = true): Promise<{ blob: StoredBlob; indexed: IndexedMessage | null }> {
    const total = Number(msg.size);
    const body = headers.raw.length < total ? await this.o.blobs.get(msg.blob_hash, { start: headers.raw.length, end: total - 1 }) : null;
    async function* content(): AsyncGenerator<Buffer> {
      yield head;
      if (body) for await (const chunk of body) yield chunk as Buffer;
    }
    const blob = await this.o.store.putBlob(Readable.from(content()));
    if (!index) return { blob, indexed: null };
    const indexed = indexMessage(await summarise(await this.o.blobs.get(blob.hash), summaryLimitsOf(this.o.settings())));
    return { blob, indexed };
  }

  /** RFC 3834 automatic reply, at most once per sender per period; spooled with the null sender. */
  private async autoReply(t: MailboxTarget, msg: SpoolRow, headers: DeliveryHeaders): Promise<SpooledSystemMail | null> {
    const s = t.settings;
    if (!s || !s.autoReplyEnabled) return null;
    // Never answer what the content filter filed as spam or virus: the sender is most likely forged.
    if (msg.filter_folder) return null;
    const now = Date.now();
    if ((s.autoReplyStartsAt && new Date(s.autoReplyStartsAt).getTime() > now) || (s.autoReplyEndsAt && new Date(s.autoReplyEndsAt).getTime() < now)) return null;
    const sender = msg.mail_from.toLowerCase();
    if (!sender || sender === t.address || isRobotSender(sender)) return null;
    if (headers.autoReplyBlocker || headers.xLoop.has(t.address)) return null;
    // One automatic reply per sender and mailbox in this period (setting autoReplyPeriodDays).
    const periodDays = this.o.settings().autoReplyPeriodDays;
    if (await this.spool.autoReplySentWithin(t.mailboxId, sender, periodDays)) return null;

    const subject = s.autoReplySubject.trim() || `Auto: ${headers.subject}`.trim();
    const mail = await composeMail({
      from: { name: t.displayName, address: t.address },
      to: sender,
      subject,
      text: s.autoReplyBody,
      hostname: this.o.hostname,
      headers: { 'Auto-Submitted': 'auto-replied', 'X-Loop': t.address },
      inReplyTo: headers.messageId,
      references: headers.messageId ? [...headers.references, headers.messageId] : headers.references,
    });
    const blob = await this.o.store.putBlob(Readable.from([mail.raw]));
    return this.spool.transaction(async (tx) => {
      // The claim and the reply commit together: one reply per period, never none and never two.
      if (!(await tx.claimAutoReply(t.mailboxId, sender, periodDays))) return null;
      return tx.spoolSystemMail(blob, '', [sender]);
    });
  }

  /**
   * A Sieve vacation reply (RFC 5230), on the same rules and the same once-per-sender memory as the auto-reply
   * setting: never to robots, lists, bulk or auto-submitted mail, nor mail the content filter filed as spam; :days
   * (rounded up to whole days) is the period.
   */
  private async vacationReply(t: MailboxTarget, v: SieveVacation, msg: SpoolRow, headers: DeliveryHeaders): Promise<SpooledSystemMail | null> {
    if (msg.filter_folder) return null;
    const sender = msg.mail_from.toLowerCase();
    if (!sender || sender === t.address || isRobotSender(sender)) return null;
    if (headers.autoReplyBlocker || headers.xLoop.has(t.address)) return null;
    const periodDays = Math.max(1, Math.ceil(v.periodSeconds / 86_400));
    if (await this.spool.autoReplySentWithin(t.mailboxId, sender, periodDays)) return null;
    const mail = await composeMail({
      // :from is not honoured: a reply leaves from the mailbox's own address, never one the script names.
      from: { name: t.displayName, address: t.address },
      to: sender,
      subject: v.subject.trim() || `Auto: ${headers.subject}`.trim(),
      text: v.reason,
      hostname: this.o.hostname,
      headers: { 'Auto-Submitted': 'auto-replied', 'X-Loop': t.address },
      inReplyTo: headers.messageId,
      references: headers.messageId ? [...headers.references, headers.messageId] : headers.references,
    });
    const blob = await this.o.store.putBlob(Readable.from([mail.raw]));
    return this.spool.transaction(async (tx) => {
      if (!(await tx.claimAutoReply(t.mailboxId, sender, periodDays))) return null;
      return tx.spoolSystemMail(blob, '', [sender]);
    });
  }

  /**
   * The recipient states of messages whose due recipients were all delivered and want no notice, with their mail log
   * records, in ONE statement (atomic on its own) for the whole batch. Rows named are final after it (moved to
   * delivered now, or already final), so only the others can keep a message open. Returns, per message settled, how
   * many recipients it moved.
   */
  private async settleDelivered(
    work: Array<{ w: MessageWork; logs: MailLogEntry[] }>, fail: (w: MessageWork, err: unknown) => Promise<null>,
  ): Promise<Map<string, number>> {
    const run = async (batch: Array<{ w: MessageWork; logs: MailLogEntry[] }>) => {
      const ws = batch.map((b) => b.w);
      const delivered = ws.flatMap((w) => w.due.map((r) => r.id));
      const logs = batch.flatMap((b) => b.logs);
      const moved = await this.spool.settleDelivered(delivered, ws.map((w) => w.msg.id), logs);
      const counts = new Map<string, number>(ws.map((w) => [w.msg.id, 0]));
      for (const [id, n] of moved) counts.set(id, n);
      return counts;
    };
    if (work.length === 0) return new Map();
    try {
      return await run(work);
    } catch (err) {
      if (work.length === 1) {
        await fail(work[0].w, err);
        return new Map();
      }
    }
    const counts = new Map<string, number>();
    for (const one of work) {
      try {
        for (const [id, n] of await run([one])) counts.set(id, n);
      } catch (err) {
        await fail(one.w, err);
      }
    }
    return counts;
  }

  /** Recipient states of one message with deferrals, bounces or notices, and the DSN, in one transaction. */
  private async settleMixed(w: MessageWork, s: Settlement, settings: SmtpSettings): Promise<{ finished: number; spooled: SpooledSystemMail[] }> {
    const { msg, headers } = w;
    const { delivered, deferred, bounced } = s;
    const wantsDsn = (r: RecipientRow) => msg.mail_from !== '' && !/NEVER/i.test(r.dsn_notify ?? '') && (r.dsn_notify === null || /FAILURE/i.test(r.dsn_notify));
    const dsnRecipients: DsnRecipient[] = bounced.filter((b) => wantsDsn(b.row)).map((b) => ({
      finalRecipient: b.failure.address,
      originalRecipient: b.row.original_address ?? b.row.address,
      action: 'failed',
      status: b.failure.status.startsWith('4') ? `5${b.failure.status.slice(1)}` : b.failure.status,
      diagnostic: `${b.failure.status.startsWith('4') ? 550 : smtpCodeOf(b.failure.status)} ${b.failure.status} ${b.failure.reason}`,
      lastAttemptDate: new Date(),
    }));
    dsnRecipients.push(...s.successes);
    const dsnBlob = dsnRecipients.length > 0 ? await this.buildDsnBlob(msg, headers, dsnRecipients) : null;

    const spooled: SpooledSystemMail[] = [];
    let finished = 0;
    await this.spool.transaction(async (tx) => {
      finished += await tx.markDelivered(delivered);
      for (const d of deferred) {
        // Local trouble is usually short (a database hiccup): retry soon, backing off up to the retry interval.
        const delay = Math.min(settings.retryIntervalSeconds, 30 * 2 ** d.row.attempts);
        await tx.defer(d.row.id, delay, d.reason.slice(0, 2000));
      }
      let bouncedNow = 0;
      for (const b of bounced) bouncedNow += await tx.bounce(b.row.id, `${b.failure.status} ${b.failure.reason}`.slice(0, 2000));
      finished += bouncedNow;
      // Only the job that moved the recipients to a final state sends the DSN (a concurrent re-run finds nothing to move).
      if (dsnBlob && finished > 0) spooled.push(await tx.spoolSystemMail(dsnBlob, '', [msg.mail_from]));
      // Sieve redirects commit with the recipients they came from: a retry finds nothing to move and sends none.
      if (finished > 0) for (const m of w.sieve.mail) spooled.push(await tx.spoolSystemMail(m.blob, m.mailFrom, m.to));
      await tx.markDoneIfFinal([msg.id]);
    });
    return { finished, spooled };
  }

  private logEntries(w: MessageWork, s: Settlement): MailLogEntry[] {
    const { msg, plans } = w;
    return [
      ...plans.filter((_, i) => s.verdicts[i].state === 'delivered').map((p): MailLogEntry => ({
        level: 'info', kind: 'delivery', node: this.o.hostname, result: 'delivered', messageId: msg.id, mailFrom: msg.mail_from,
        recipients: [p.row.address, ...p.targets.filter((t) => t.store).map((t) => t.address)].filter((a, i, all) => all.indexOf(a) === i),
        size: Number(msg.size), reason: [
          ...(s.verdicts[plans.indexOf(p)] as { notes: Failure[] }).notes.map((n) => `${n.address}: ${n.status} ${n.reason}`),
          ...w.sieve.log.filter((l) => p.targets.some((t) => l.startsWith(`${t.address}: `))),
        ].join('; '),
      })),
      ...s.deferred.map((d): MailLogEntry => ({
        level: 'warn', kind: 'delivery', node: this.o.hostname, result: 'deferred', messageId: msg.id, mailFrom: msg.mail_from,
        recipients: [d.row.address], size: Number(msg.size), reason: d.reason,
      })),
      ...s.bounced.map((b): MailLogEntry => ({
        level: 'warn', kind: 'bounce', node: this.o.hostname, result: `bounced ${b.failure.status}`, messageId: msg.id,
        mailFrom: msg.mail_from, recipients: [b.row.address], size: Number(msg.size), reason: b.failure.reason,
      })),
    ];
  }

  private async buildDsnBlob(msg: SpoolRow, headers: DeliveryHeaders, recipients: DsnRecipient[]): Promise<StoredBlob> {
    let original: Buffer | null = null;
    if (msg.dsn_ret === 'FULL' && Number(msg.size) <= MAX_RETURNED_BYTES && recipients.some((r) => r.action === 'failed')) {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.o.blobs.get(msg.blob_hash)) chunks.push(chunk as Buffer);
      original = Buffer.concat(chunks);
    }
    const dsn = buildDsn({
      reportingMta: this.o.hostname,
      to: msg.mail_from,
      recipients,
      originalHeaders: headers.raw,
      originalMessage: original,
      originalMessageId: headers.messageId,
      envId: msg.env_id,
      arrivalDate: msg.received_at,
    });
    return this.o.store.putBlob(Readable.from([dsn.raw]));
  }

  private async deferAll(due: RecipientRow[], reason: string): Promise<void> {
    const settings = this.o.settings();
    for (const r of due) {
      const delay = Math.min(settings.retryIntervalSeconds, 30 * 2 ** r.attempts);
      await this.spool.defer(r.id, delay, `4.3.0 ${reason}`.slice(0, 2000));
    }
  }

  private async enqueueAfterCommit(spoolMessageId: string, remoteDomains: string[], spooled: SpooledSystemMail[]): Promise<void> {
    // A lost enqueue only delays: the sweeper finds due recipients in the spool.
    const jobs: Array<Promise<void>> = remoteDomains.map((d) => this.o.queues.enqueueOutbound(spoolMessageId, d));
    for (const s of spooled) {
      if (s.hasLocal) jobs.push(this.o.queues.enqueueDelivery(s.spoolMessageId));
      for (const d of s.remoteDomains) jobs.push(this.o.queues.enqueueOutbound(s.spoolMessageId, d));
    }
    const results = await Promise.allSettled(jobs);
    for (const r of results) if (r.status === 'rejected') this.logger.warn({ err: r.reason }, 'enqueue failed; the sweeper will retry');
  }
}

function smtpCodeOf(status: string): number {
  if (status === '5.2.2') return 552;
  if (status === '5.4.6') return 554;
  if (status.startsWith('5.7')) return 550;
  return 550;
}

function verdictOf(p: RecipientPlan, outcomes: Map<string, DeliveryOutcome>, loopBlocked: Set<string>, sieve: SieveWork): Verdict {
  if (p.failure) return { state: 'bounced', failure: p.failure, notes: [] };
  const exp = p.expansion!;
  const failures: Failure[] = [...exp.failures];
  let ok = exp.remotes.size;
  let temporary: string | null = null;
  for (const t of p.targets) {
    if (!t.store) {
      ok += 1; // forwarded without a copy: the forward is the delivery
      continue;
    }
    const rejected = sieve.rejects.get(t.mailboxId);
    if (rejected !== undefined) {
      failures.push({ address: t.address, status: '5.7.1', reason: `rejected by the recipient's filter: ${rejected || 'no reason given'}` });
      continue;
    }
    if (sieve.done.has(t.mailboxId)) {
      ok += 1; // discarded or redirected by the recipient's own filter: that is its delivery
      continue;
    }
    if (loopBlocked.has(t.mailboxId)) {
      failures.push({ address: t.address, status: '5.4.6', reason: `mail loop: the message was already delivered to ${t.address}` });
      continue;
    }
    const outcome = outcomes.get(t.mailboxId);
    if (!outcome) continue;
    if (outcome.ok) ok += 1;
    else if (outcome.error instanceof QuotaExceededError) failures.push({ address: t.address, status: '5.2.2', reason: `mailbox full: ${outcome.error.message}` });
    else temporary = `${t.address}: ${outcome.error.message}`;
  }
  if (temporary) return { state: 'deferred', reason: temporary };
  if (ok > 0) return { state: 'delivered', notes: failures };
  return { state: 'bounced', failure: failures[0] ?? { address: p.row.address, status: '5.1.1', reason: 'no such mailbox' }, notes: failures.slice(1) };
}

/** What becomes of each due recipient of a message, from its copies' outcomes. */
function settlementOf(w: MessageWork, settings: SmtpSettings): Settlement {
  const { plans, msg } = w;
  const verdicts = plans.map((p) => verdictOf(p, w.outcomes, w.loopBlocked, w.sieve));
  const delivered = plans.filter((_, i) => verdicts[i].state === 'delivered').map((p) => p.row.id);
  const deferred: Settlement['deferred'] = [];
  const bounced: Settlement['bounced'] = [];
  plans.forEach((p, i) => {
    const v = verdicts[i];
    if (v.state === 'deferred') {
      if (p.row.attempts + 1 >= settings.maxDeliveryAttempts) {
        bounced.push({ row: p.row, failure: { address: p.row.address, status: '4.0.0', reason: `gave up after ${p.row.attempts + 1} attempts: ${v.reason}` } });
      } else {
        deferred.push({ row: p.row, reason: v.reason });
      }
    } else if (v.state === 'bounced') {
      bounced.push({ row: p.row, failure: v.failure });
    }
  });
  const successes = successNotices(msg.mail_from, plans.filter((_, i) => verdicts[i].state === 'delivered').map((p) => ({
    address: p.row.address, originalAddress: p.row.original_address, dsnNotify: p.row.dsn_notify, storedCopy: p.targets.some((t) => t.store),
  })));
  return { verdicts, delivered, deferred, bounced, successes };
}
