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
import type { Pool, PoolClient } from 'pg';
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { BlobStore, StoredBlob } from '@dizi/mail-store/ports/blob-store';
import { INBOX, QuotaExceededError, type Delivery, type DeliveryOutcome, type MessageStore } from '@dizi/mail-store/ports/message-store';
import { buildDsn, readHeaderBlock, type DsnRecipient } from '@dizi/smtp/dsn';
import { writeMailLog, type MailLogEntry } from '../logs/mail-log';
import { inspectHeaders, isRobotSender, rewriteToHeader, type DeliveryHeaders } from './message-headers';
import { indexMessage, isCompleteSummary, summarise, type IndexedMessage, type StoredSummary } from './message-index';
import { composeMail } from './notice-templates';
import { RecipientResolver, type Expansion, type MailboxTarget, type SenderIdentity } from './recipient-resolver';
import { spoolSystemMail, type SpooledSystemMail } from './system-mail';
import { SystemNotices } from './system-notices';

/** One automatic reply per sender and mailbox in this period (RFC 3834 §2 suggests days, not minutes). */
export const AUTO_REPLY_PERIOD_DAYS = 7;
/** RET=FULL returns the whole message only up to this size; bigger ones return their headers. */
const MAX_RETURNED_BYTES = 10 * 1024 * 1024;

export interface DeliveryEnqueuer {
  enqueueDelivery(spoolMessageId: string, delayMs?: number): Promise<void>;
  enqueueOutbound(spoolMessageId: string, domain: string, attempt?: number, delayMs?: number): Promise<void>;
}

export interface DeliveryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LocalDeliveryOptions {
  pool: Pool;
  store: MessageStore;
  blobs: BlobStore;
  settings: () => SmtpSettings;
  /** Our host name (DSN Reporting-MTA, Message-IDs). */
  hostname: string;
  queues: DeliveryEnqueuer;
  logger?: DeliveryLogger;
  /** Test hook: runs after the copies are stored and before any recipient state is written (crash simulation). */
  afterStore?: (spoolMessageId: string) => Promise<void>;
}

interface SpoolRow {
  id: string;
  blob_hash: string;
  size: string;
  mail_from: string;
  source: string;
  auth_mailbox_id: string | null;
  received_at: Date;
  env_id: string | null;
  dsn_ret: 'FULL' | 'HDRS' | null;
  summary: unknown;
  done_at: Date | null;
}

interface RecipientRow {
  id: string;
  address: string;
  original_address: string | null;
  attempts: number;
  dsn_notify: string | null;
}

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

const NOOP_LOGGER: DeliveryLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export class LocalDelivery {
  readonly notices: SystemNotices;
  private readonly logger: DeliveryLogger;

  constructor(private readonly o: LocalDeliveryOptions) {
    this.notices = new SystemNotices(o.pool, o.store, o.hostname);
    this.logger = o.logger ?? NOOP_LOGGER;
  }

  /** Runs one job; returns how many recipients it finished. Errors defer the due recipients instead of throwing. */
  async deliverMessage(spoolMessageId: string): Promise<{ due: number; finished: number }> {
    const { pool } = this.o;
    // The message and its due local recipients in one round trip (a job's fixed cost is mostly round trips).
    const { rows: messages } = await pool.query<SpoolRow & { due: RecipientRow[] | null }>(
      `SELECT s.id, s.blob_hash, s.size, s.mail_from, s.source, s.auth_mailbox_id, s.received_at, s.env_id, s.dsn_ret, s.summary,
              s.done_at,
              (SELECT json_agg(json_build_object('id', r.id::text, 'address', r.address, 'original_address', r.original_address,
                                                 'attempts', r.attempts, 'dsn_notify', r.dsn_notify) ORDER BY r.id)
                 FROM spool_recipient r
                WHERE r.message_id = s.id AND r.kind = 'local' AND r.status IN ('queued', 'deferred') AND r.next_attempt_at <= now()
              ) AS due
         FROM spool_message s WHERE s.id = $1`,
      [spoolMessageId],
    );
    const msg = messages[0];
    if (!msg || msg.done_at) return { due: 0, finished: 0 };
    const due = msg.due ?? [];
    if (due.length === 0) {
      await markDoneIfFinal(pool, msg.id);
      return { due: 0, finished: 0 };
    }
    try {
      return { due: due.length, finished: await this.deliverRecipients(msg, due) };
    } catch (err) {
      this.logger.error({ err, spoolMessageId }, 'local delivery failed; recipients deferred');
      await this.deferAll(due, err instanceof Error ? err.message : String(err)).catch((e) =>
        this.logger.error({ err: e, spoolMessageId }, 'could not defer recipients; the sweeper retries'));
      return { due: due.length, finished: 0 };
    }
  }

  private async deliverRecipients(msg: SpoolRow, due: RecipientRow[]): Promise<number> {
    const { pool, store, blobs } = this.o;
    const settings = this.o.settings();
    const headers = inspectHeaders(await readHeaderBlock(await blobs.get(msg.blob_hash)));
    const indexed = indexMessage(await this.summaryOf(msg));
    const resolver = new RecipientResolver(pool);
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
      await pool.query(
        `INSERT INTO spool_recipient (message_id, address, original_address, kind, domain)
         SELECT $1, a, o, 'remote', split_part(a, '@', 2) FROM unnest($2::text[], $3::text[]) AS t(a, o)
         ON CONFLICT (message_id, address) DO NOTHING`,
        [msg.id, [...remote.keys()], [...remote.values()]],
      );
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
    for (const t of copies.values()) {
      const variant = t.rewriteTo ? await this.rewrittenCopy(msg, headers, t.rewriteTo) : null;
      const index = variant?.indexed ?? indexed;
      deliveries.push({
        mailboxId: t.mailboxId,
        folder: { name: INBOX },
        enforceQuota: true,
        message: {
          blobHash: variant?.blob.hash ?? msg.blob_hash,
          headerPrefix: `Return-Path: <${msg.mail_from}>\r\nDelivered-To: ${t.address}\r\n`,
          internalDate: msg.received_at,
          summary: index.summary,
          sortFields: index.sortFields,
          searchTokens: index.searchTokens,
          deliveryKey: `${msg.id}:${t.mailboxId}`,
        },
      });
    }
    const outcomes = new Map<string, DeliveryOutcome>();
    if (deliveries.length > 0) {
      const results = await store.appendMany(deliveries);
      deliveries.forEach((d, i) => outcomes.set(d.mailboxId, results[i]));
    }
    if (this.o.afterStore) await this.o.afterStore(msg.id);

    // Side effects: each is idempotent on its own (see the file comment).
    const spooled: SpooledSystemMail[] = [];
    const replied = new Set<string>();
    for (const p of plans) {
      for (const t of p.targets) {
        const outcome = outcomes.get(t.mailboxId);
        const received = t.store ? outcome?.ok === true : true;
        if (!received || t.viaGroup || replied.has(t.mailboxId)) continue;
        replied.add(t.mailboxId);
        const reply = await this.autoReply(t, msg, headers).catch((err) => {
          this.logger.warn({ err, mailboxId: t.mailboxId }, 'auto-reply failed');
          return null;
        });
        if (reply) spooled.push(reply);
      }
    }
    const stored = [...outcomes.entries()].filter(([, o]) => o.ok && !o.duplicate).map(([id]) => id);
    await this.notices.checkQuota(stored, settings.quotaWarningPercent).catch((err) =>
      this.logger.warn({ err }, 'quota warning failed'));

    // Verdicts.
    const verdicts = plans.map((p) => verdictOf(p, outcomes, loopBlocked));
    const finalState = await this.settle(msg, plans, verdicts, headers, settings);
    spooled.push(...finalState.spooled);

    await this.enqueueAfterCommit(msg.id, [...new Set([...remote.keys()].map((a) => a.slice(a.lastIndexOf('@') + 1)))], spooled);
    return finalState.finished;
  }

  /** Summary of the spooled message: from the spool row, or computed once and kept there. */
  private async summaryOf(msg: SpoolRow): Promise<StoredSummary> {
    if (isCompleteSummary(msg.summary)) return msg.summary;
    const summary = await summarise(await this.o.blobs.get(msg.blob_hash));
    await this.o.pool.query(`UPDATE spool_message SET summary = $2 WHERE id = $1 AND summary IS NULL`, [msg.id, JSON.stringify(summary)]);
    return summary;
  }

  /**
   * The message with its To header naming the member. The blob is shared and the per-copy header prefix can only
   * add lines, and a second To header is invalid (RFC 5322 allows one) and shown differently by each client: so
   * the cheapest correct way is a variant blob per member — the rewritten header block followed by the original
   * body streamed from the store, content-addressed, so a retry produces the same blob and no extra copy. It costs
   * one blob per member, paid only by groups that ask for rewriting.
   */
  private async rewrittenCopy(msg: SpoolRow, headers: DeliveryHeaders, to: string): Promise<{ blob: StoredBlob; indexed: IndexedMessage }> {
    const head = rewriteToHeader(headers.raw, to);
    const total = Number(msg.size);
    const body = headers.raw.length < total ? await this.o.blobs.get(msg.blob_hash, { start: headers.raw.length, end: total - 1 }) : null;
    async function* content(): AsyncGenerator<Buffer> {
      yield head;
      if (body) for await (const chunk of body) yield chunk as Buffer;
    }
    const blob = await this.o.store.putBlob(Readable.from(content()));
    const indexed = indexMessage(await summarise(await this.o.blobs.get(blob.hash)));
    return { blob, indexed };
  }

  /** RFC 3834 automatic reply, at most once per sender per period; spooled with the null sender. */
  private async autoReply(t: MailboxTarget, msg: SpoolRow, headers: DeliveryHeaders): Promise<SpooledSystemMail | null> {
    const s = t.settings;
    if (!s || !s.autoReplyEnabled) return null;
    const now = Date.now();
    if ((s.autoReplyStartsAt && new Date(s.autoReplyStartsAt).getTime() > now) || (s.autoReplyEndsAt && new Date(s.autoReplyEndsAt).getTime() < now)) return null;
    const sender = msg.mail_from.toLowerCase();
    if (!sender || sender === t.address || isRobotSender(sender)) return null;
    if (headers.autoReplyBlocker || headers.xLoop.has(t.address)) return null;
    const { pool } = this.o;
    const { rows: recent } = await pool.query(
      `SELECT 1 FROM auto_reply_sent WHERE mailbox_id = $1 AND sender = $2 AND sent_at > now() - make_interval(days => $3)`,
      [t.mailboxId, sender, AUTO_REPLY_PERIOD_DAYS],
    );
    if (recent.length > 0) return null;

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
    return this.transaction(async (c) => {
      // The claim and the reply commit together: one reply per period, never none and never two.
      const { rows } = await c.query(
        `INSERT INTO auto_reply_sent (mailbox_id, sender) VALUES ($1, $2)
         ON CONFLICT (mailbox_id, sender) DO UPDATE SET sent_at = now()
           WHERE auto_reply_sent.sent_at <= now() - make_interval(days => $3)
         RETURNING sent_at`,
        [t.mailboxId, sender, AUTO_REPLY_PERIOD_DAYS],
      );
      if (rows.length === 0) return null;
      return spoolSystemMail(c, blob, '', [sender]);
    });
  }

  /** Recipient states and the DSN for the bounced ones, in one transaction. */
  private async settle(
    msg: SpoolRow, plans: RecipientPlan[], verdicts: Verdict[], headers: DeliveryHeaders, settings: SmtpSettings,
  ): Promise<{ finished: number; spooled: SpooledSystemMail[] }> {
    const delivered = plans.filter((_, i) => verdicts[i].state === 'delivered').map((p) => p.row.id);
    const deferred: Array<{ row: RecipientRow; reason: string }> = [];
    const bounced: Array<{ row: RecipientRow; failure: Failure }> = [];
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

    const wantsDsn = (r: RecipientRow) => msg.mail_from !== '' && !/NEVER/i.test(r.dsn_notify ?? '') && (r.dsn_notify === null || /FAILURE/i.test(r.dsn_notify));
    const dsnRecipients: DsnRecipient[] = bounced.filter((b) => wantsDsn(b.row)).map((b) => ({
      finalRecipient: b.failure.address,
      originalRecipient: b.row.original_address ?? b.row.address,
      action: 'failed',
      status: b.failure.status.startsWith('4') ? `5${b.failure.status.slice(1)}` : b.failure.status,
      diagnostic: `${b.failure.status.startsWith('4') ? 550 : smtpCodeOf(b.failure.status)} ${b.failure.status} ${b.failure.reason}`,
      lastAttemptDate: new Date(),
    }));
    const dsnBlob = dsnRecipients.length > 0 ? await this.buildDsnBlob(msg, headers, dsnRecipients) : null;

    const spooled: SpooledSystemMail[] = [];
    let finished = 0;
    if (deferred.length === 0 && bounced.length === 0) {
      // The common case, every due recipient delivered: one statement (atomic on its own) instead of a transaction of
      // three. Rows of $1 are final after it (moved to delivered now, or already final), so only the others can keep
      // the message open.
      const { rows: [r] } = await this.o.pool.query<{ n: number }>(
        `WITH d AS (
           UPDATE spool_recipient SET status = 'delivered', delivered_at = now(), last_attempt_at = now(), attempts = attempts + 1,
                  last_error = NULL
            WHERE id = ANY($1) AND status IN ('queued', 'deferred') RETURNING id),
         m AS (
           UPDATE spool_message SET done_at = now()
            WHERE id = $2 AND done_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM spool_recipient
                               WHERE message_id = $2 AND status IN ('queued', 'deferred') AND id <> ALL($1)))
         SELECT count(*)::int AS n FROM d`,
        [delivered, msg.id],
      );
      finished = r.n;
    } else await this.transaction(async (c) => {
      if (delivered.length > 0) {
        const r = await c.query(
          `UPDATE spool_recipient SET status = 'delivered', delivered_at = now(), last_attempt_at = now(), attempts = attempts + 1,
                  last_error = NULL
            WHERE id = ANY($1) AND status IN ('queued', 'deferred')`,
          [delivered],
        );
        finished += r.rowCount ?? 0;
      }
      for (const d of deferred) {
        // Local trouble is usually short (a database hiccup): retry soon, backing off up to the retry interval.
        const delay = Math.min(settings.retryIntervalSeconds, 30 * 2 ** d.row.attempts);
        await c.query(
          `UPDATE spool_recipient SET status = 'deferred', attempts = attempts + 1, last_attempt_at = now(),
                  next_attempt_at = now() + make_interval(secs => $2), last_error = $3
            WHERE id = $1 AND status IN ('queued', 'deferred')`,
          [d.row.id, delay, d.reason.slice(0, 2000)],
        );
      }
      let bouncedNow = 0;
      for (const b of bounced) {
        const r = await c.query(
          `UPDATE spool_recipient SET status = 'bounced', attempts = attempts + 1, last_attempt_at = now(), last_error = $2
            WHERE id = $1 AND status IN ('queued', 'deferred')`,
          [b.row.id, `${b.failure.status} ${b.failure.reason}`.slice(0, 2000)],
        );
        bouncedNow += r.rowCount ?? 0;
      }
      finished += bouncedNow;
      // Only the job that moved the recipients to bounced sends the DSN (a concurrent re-run finds nothing to move).
      if (dsnBlob && bouncedNow > 0) spooled.push(await spoolSystemMail(c, dsnBlob, '', [msg.mail_from]));
      await markDoneIfFinal(c, msg.id);
    });

    const logs: MailLogEntry[] = [
      ...plans.filter((_, i) => verdicts[i].state === 'delivered').map((p): MailLogEntry => ({
        level: 'info', kind: 'delivery', node: this.o.hostname, result: 'delivered', messageId: msg.id, mailFrom: msg.mail_from,
        recipients: [p.row.address, ...p.targets.filter((t) => t.store).map((t) => t.address)].filter((a, i, all) => all.indexOf(a) === i),
        size: Number(msg.size), reason: (verdicts[plans.indexOf(p)] as { notes: Failure[] }).notes.map((n) => `${n.address}: ${n.status} ${n.reason}`).join('; '),
      })),
      ...deferred.map((d): MailLogEntry => ({
        level: 'warn', kind: 'delivery', node: this.o.hostname, result: 'deferred', messageId: msg.id, mailFrom: msg.mail_from,
        recipients: [d.row.address], size: Number(msg.size), reason: d.reason,
      })),
      ...bounced.map((b): MailLogEntry => ({
        level: 'warn', kind: 'bounce', node: this.o.hostname, result: `bounced ${b.failure.status}`, messageId: msg.id,
        mailFrom: msg.mail_from, recipients: [b.row.address], size: Number(msg.size), reason: b.failure.reason,
      })),
    ];
    await writeMailLog(this.o.pool, logs).catch((err) => this.logger.warn({ err }, 'mail log write failed'));
    return { finished, spooled };
  }

  private async buildDsnBlob(msg: SpoolRow, headers: DeliveryHeaders, recipients: DsnRecipient[]): Promise<StoredBlob> {
    let original: Buffer | null = null;
    if (msg.dsn_ret === 'FULL' && Number(msg.size) <= MAX_RETURNED_BYTES) {
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
      await this.o.pool.query(
        `UPDATE spool_recipient SET status = 'deferred', attempts = attempts + 1, last_attempt_at = now(),
                next_attempt_at = now() + make_interval(secs => $2), last_error = $3
          WHERE id = $1 AND status IN ('queued', 'deferred')`,
        [r.id, delay, `4.3.0 ${reason}`.slice(0, 2000)],
      );
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

  private async transaction<T>(work: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.o.pool.connect();
    try {
      await c.query('BEGIN');
      const result = await work(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }
}

function smtpCodeOf(status: string): number {
  if (status === '5.2.2') return 552;
  if (status === '5.4.6') return 554;
  if (status.startsWith('5.7')) return 550;
  return 550;
}

function verdictOf(p: RecipientPlan, outcomes: Map<string, DeliveryOutcome>, loopBlocked: Set<string>): Verdict {
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

/** Marks the message done when no recipient is left to work on (every state final). */
export async function markDoneIfFinal(db: Pick<Pool, 'query'>, spoolMessageId: string): Promise<void> {
  await db.query(
    `UPDATE spool_message SET done_at = now()
      WHERE id = $1 AND done_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM spool_recipient WHERE message_id = $1 AND status IN ('queued', 'deferred'))`,
    [spoolMessageId],
  );
}
