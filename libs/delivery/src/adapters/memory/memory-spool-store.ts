/**
 * SpoolStore in process memory with the PostgreSQL adapter's state rules (only queued/deferred recipients move; a
 * message is done once no recipient is open), for unit tests of delivery logic. A transaction works on the live state
 * and puts the state back as it was when the work throws.
 */
import { domainOfAddress } from '@dizi/domain/address';
import { randomUUID } from 'node:crypto';
import type { StoredBlob } from '@dizi/mail-store/ports/blob-store';
import type { MailLogEntry } from '../../ports/mail-log';
import type { DirectoryStore } from '../../ports/directory-store';
import type {
  ClaimedRecipient, DueRecipientRow, FilterFolder, OutboundMessageRow, PreparedBounce, SpoolMessageRow, SpoolStore, SpoolTransaction,
  SpooledSystemMail,
} from '../../ports/spool-store';

export type RecipientStatus = 'queued' | 'deferred' | 'delivered' | 'bounced' | 'failed';

export interface MemorySpoolRecipient {
  id: string;
  messageId: string;
  address: string;
  originalAddress: string | null;
  kind: 'local' | 'remote';
  domain: string;
  /** Envelope sender of this copy when not the message's (SRS-rewritten forward). */
  mailFrom: string | null;
  status: RecipientStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  lastReply: string | null;
  dsnNotify: string | null;
  delayNotified: boolean;
}

export interface MemorySpoolMessage {
  id: string;
  blobHash: string;
  size: number;
  mailFrom: string;
  source: string;
  authMailboxId: string | null;
  receivedAt: Date;
  envId: string | null;
  dsnRet: 'FULL' | 'HDRS' | null;
  summary: unknown;
  doneAt: Date | null;
  filterHeaders: string | null;
  filterFolder: FilterFolder | null;
}

export interface SpoolInput {
  blob: StoredBlob;
  mailFrom: string;
  recipients: Array<string | { address: string; dsnNotify?: string | null }>;
  authMailboxId?: string | null;
  source?: string;
  envId?: string | null;
  dsnRet?: 'FULL' | 'HDRS' | null;
  filterHeaders?: string | null;
  filterFolder?: FilterFolder | null;
}

interface State {
  messages: Map<string, MemorySpoolMessage>;
  recipients: MemorySpoolRecipient[];
  autoReplies: Map<string, Date>;
  mailLog: MailLogEntry[];
}

const DAY_MS = 86_400_000;
const OPEN = new Set<RecipientStatus>(['queued', 'deferred']);

export class MemorySpoolStore implements SpoolStore {
  private state: State = { messages: new Map(), recipients: [], autoReplies: new Map(), mailLog: [] };
  private nextRecipientId = 1;
  private readonly now: () => Date;

  constructor(private readonly directory: Pick<DirectoryStore, 'localDomains'>, o: { now?: () => Date } = {}) {
    this.now = o.now ?? (() => new Date());
  }

  // What tests look at -------------------------------------------------------------------------------------------

  message(id: string): MemorySpoolMessage | undefined {
    return this.state.messages.get(id);
  }

  messages(): MemorySpoolMessage[] {
    return [...this.state.messages.values()];
  }

  recipientsOf(messageId: string): MemorySpoolRecipient[] {
    return this.state.recipients.filter((r) => r.messageId === messageId);
  }

  get mailLog(): readonly MailLogEntry[] {
    return this.state.mailLog;
  }

  /** Spools a message as the SMTP spool writer would: one row per recipient, local or remote by domain. */
  async spool(input: SpoolInput): Promise<string> {
    const list = input.recipients.map((r) => (typeof r === 'string' ? { address: r, dsnNotify: null } : { dsnNotify: null, ...r }));
    const local = await this.directory.localDomains([...new Set(list.map((r) => domainOfAddress(r.address)))]);
    const id = this.insertMessage(input.blob, input.mailFrom, input.source ?? 'mx', null, input);
    for (const r of list) {
      const domain = domainOfAddress(r.address);
      this.insertRecipient(id, r.address.toLowerCase(), local.has(domain) ? 'local' : 'remote', { dsnNotify: r.dsnNotify ?? null });
    }
    return id;
  }

  // SpoolStore ---------------------------------------------------------------------------------------------------

  async messagesWithDueLocal(messageIds: string[]): Promise<Array<SpoolMessageRow & { due: DueRecipientRow[] | null }>> {
    const now = this.now().getTime();
    return messageIds.flatMap((id) => {
      const m = this.state.messages.get(id);
      if (!m) return [];
      const due = this.state.recipients
        .filter((r) => r.messageId === id && r.kind === 'local' && OPEN.has(r.status) && r.nextAttemptAt.getTime() <= now)
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((r) => ({ id: r.id, address: r.address, original_address: r.originalAddress, attempts: r.attempts, dsn_notify: r.dsnNotify }));
      return [{
        id: m.id, blob_hash: m.blobHash, size: String(m.size), mail_from: m.mailFrom, source: m.source, auth_mailbox_id: m.authMailboxId,
        received_at: m.receivedAt, env_id: m.envId, dsn_ret: m.dsnRet, summary: m.summary, keys_spooled: false, done_at: m.doneAt,
        filter_headers: m.filterHeaders, filter_folder: m.filterFolder, due: due.length > 0 ? due : null,
      }];
    });
  }

  async addRemoteRecipients(messageId: string, recipients: Array<{ address: string; originalAddress: string; mailFrom: string | null }>): Promise<void> {
    for (const r of recipients) {
      if (this.state.recipients.some((x) => x.messageId === messageId && x.address === r.address)) continue;
      this.insertRecipient(messageId, r.address, 'remote', { originalAddress: r.originalAddress, mailFrom: r.mailFrom });
    }
  }

  async saveSummary(messageId: string, summary: unknown): Promise<void> {
    const m = this.state.messages.get(messageId);
    if (m && (m.summary === null || m.summary === undefined)) m.summary = JSON.parse(JSON.stringify(summary));
  }

  async autoReplySentWithin(mailboxId: string, sender: string, periodDays: number): Promise<boolean> {
    const at = this.state.autoReplies.get(`${mailboxId}\0${sender}`);
    return at !== undefined && at.getTime() > this.now().getTime() - periodDays * DAY_MS;
  }

  async settleDelivered(recipientIds: string[], messageIds: string[], logs: MailLogEntry[]): Promise<Map<string, number>> {
    const moved = new Map<string, number>();
    const n = this.moveDelivered(recipientIds);
    for (const r of n) moved.set(r.messageId, (moved.get(r.messageId) ?? 0) + 1);
    this.doneIfFinal(messageIds);
    this.state.mailLog.push(...logs);
    return moved;
  }

  async defer(recipientId: string, delaySeconds: number, error: string): Promise<void> {
    const r = this.state.recipients.find((x) => x.id === recipientId && OPEN.has(x.status));
    if (!r) return;
    r.status = 'deferred';
    r.attempts += 1;
    r.nextAttemptAt = new Date(this.now().getTime() + delaySeconds * 1000);
    r.lastError = error;
  }

  async markDoneIfFinal(messageIds: string[]): Promise<void> {
    this.doneIfFinal(messageIds);
  }

  async writeMailLog(entries: MailLogEntry[]): Promise<void> {
    this.state.mailLog.push(...entries);
  }

  async transaction<T>(work: (tx: SpoolTransaction) => Promise<T>): Promise<T> {
    const saved = this.copyOfState();
    const savedNextId = this.nextRecipientId;
    const tx: SpoolTransaction = {
      claimAutoReply: async (mailboxId, sender, periodDays) => {
        const key = `${mailboxId}\0${sender}`;
        const at = this.state.autoReplies.get(key);
        if (at !== undefined && at.getTime() > this.now().getTime() - periodDays * DAY_MS) return false;
        this.state.autoReplies.set(key, this.now());
        return true;
      },
      spoolSystemMail: (blob, mailFrom, recipients, summary) => this.spoolSystemMail(blob, mailFrom, recipients, summary),
      markDelivered: async (ids) => this.moveDelivered(ids).length,
      defer: (id, delay, error) => this.defer(id, delay, error),
      bounce: async (id, error) => {
        const r = this.state.recipients.find((x) => x.id === id && OPEN.has(x.status));
        if (!r) return 0;
        r.status = 'bounced';
        r.attempts += 1;
        r.lastError = error;
        return 1;
      },
      markDoneIfFinal: async (ids) => this.doneIfFinal(ids),
      recordOutboundAttempt: async (a) => {
        const r = this.state.recipients.find((x) => x.id === a.recipientId);
        if (!r) return;
        r.status = a.status;
        r.attempts += 1;
        r.lastReply = a.reply;
        r.lastError = a.status === 'delivered' ? null : a.reply;
        if (a.status === 'deferred') r.nextAttemptAt = new Date(this.now().getTime() + a.retrySeconds * 1000);
        r.delayNotified ||= a.delayNotified;
      },
      spoolBounce: (bounce, reportingMta) => this.spoolBounce(bounce, reportingMta),
      writeMailLog: (entries) => this.writeMailLog(entries),
    };
    try {
      return await work(tx);
    } catch (err) {
      this.state = saved;
      this.nextRecipientId = savedNextId;
      throw err;
    }
  }

  async outboundMessage(messageId: string): Promise<OutboundMessageRow | null> {
    const m = this.state.messages.get(messageId);
    if (!m) return null;
    const envelope = (m.summary as { envelope?: { messageId?: string | null } } | null)?.envelope;
    return {
      id: m.id, blob_hash: m.blobHash, size: String(m.size), mail_from: m.mailFrom, received_at: m.receivedAt, env_id: m.envId,
      dsn_ret: m.dsnRet, done_at: m.doneAt, message_id_header: envelope?.messageId ?? null,
    };
  }

  async claimRemote(messageId: string, domain: string, leaseSeconds: number): Promise<ClaimedRecipient[]> {
    const now = this.now().getTime();
    const due = this.state.recipients.filter((r) =>
      r.messageId === messageId && r.domain === domain && r.kind === 'remote' && OPEN.has(r.status) && r.nextAttemptAt.getTime() <= now);
    for (const r of due) r.nextAttemptAt = new Date(now + leaseSeconds * 1000);
    return due.map((r) => ({
      id: r.id, address: r.address, original_address: r.originalAddress, attempts: r.attempts, dsn_notify: r.dsnNotify,
      delay_notified: r.delayNotified, mail_from: r.mailFrom,
    }));
  }

  async dueLocalMessages(graceSeconds: number, limit: number): Promise<string[]> {
    const cutoff = this.now().getTime() - graceSeconds * 1000;
    const ids = this.state.recipients.filter((r) => r.kind === 'local' && OPEN.has(r.status) && r.nextAttemptAt.getTime() <= cutoff).map((r) => r.messageId);
    return [...new Set(ids)].slice(0, limit);
  }

  async dueRemoteDestinations(graceSeconds: number, limit: number): Promise<Array<{ messageId: string; domain: string; attempts: number }>> {
    const cutoff = this.now().getTime() - graceSeconds * 1000;
    const groups = new Map<string, { messageId: string; domain: string; attempts: number }>();
    for (const r of this.state.recipients) {
      if (r.kind !== 'remote' || !OPEN.has(r.status) || r.nextAttemptAt.getTime() > cutoff) continue;
      const key = `${r.messageId}\0${r.domain}`;
      const g = groups.get(key);
      if (!g) groups.set(key, { messageId: r.messageId, domain: r.domain, attempts: r.attempts });
      else g.attempts = Math.min(g.attempts, r.attempts);
    }
    return [...groups.values()].slice(0, limit);
  }

  async closeFinished(graceSeconds: number, limit: number): Promise<number> {
    const cutoff = this.now().getTime() - graceSeconds * 1000;
    const due = [...this.state.messages.values()]
      .filter((m) => m.doneAt === null && m.receivedAt.getTime() <= cutoff && !this.hasOpen(m.id))
      .slice(0, limit);
    for (const m of due) m.doneAt = this.now();
    return due.length;
  }

  async purgeDone(retentionDays: number, limit: number): Promise<number> {
    const cutoff = this.now().getTime() - retentionDays * DAY_MS;
    const old = [...this.state.messages.values()].filter((m) => m.doneAt !== null && m.doneAt.getTime() < cutoff).slice(0, limit);
    for (const m of old) {
      this.state.messages.delete(m.id);
      this.state.recipients = this.state.recipients.filter((r) => r.messageId !== m.id);
    }
    return old.length;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private async spoolSystemMail(blob: StoredBlob, mailFrom: string, recipients: string[], summary: unknown = null): Promise<SpooledSystemMail> {
    const addresses = [...new Set(recipients.map((r) => r.toLowerCase()))];
    const local = await this.directory.localDomains(addresses.map(domainOfAddress));
    const id = this.insertMessage(blob, mailFrom, 'system', summary, {});
    for (const a of addresses) this.insertRecipient(id, a, local.has(domainOfAddress(a)) ? 'local' : 'remote', {});
    return {
      spoolMessageId: id,
      remoteDomains: [...new Set(addresses.map(domainOfAddress).filter((d) => !local.has(d)))],
      hasLocal: addresses.some((a) => local.has(domainOfAddress(a))),
    };
  }

  private async spoolBounce(bounce: PreparedBounce, reportingMta: string): Promise<{ id: string; local: boolean; domain: string }> {
    const domain = domainOfAddress(bounce.to);
    const local = (await this.directory.localDomains([domain])).has(domain);
    const id = this.insertMessage({ hash: bounce.blobHash, size: bounce.size }, '', 'system', bounce.summary, {});
    void reportingMta; // the HELO column of the row; nothing here reads it
    this.insertRecipient(id, bounce.to.toLowerCase(), local ? 'local' : 'remote', { dsnNotify: 'NEVER' });
    return { id, local, domain };
  }

  private insertMessage(blob: StoredBlob, mailFrom: string, source: string, summary: unknown, o: Partial<SpoolInput>): string {
    const id = randomUUID();
    this.state.messages.set(id, {
      id, blobHash: blob.hash, size: blob.size, mailFrom, source, authMailboxId: o.authMailboxId ?? null, receivedAt: this.now(),
      envId: o.envId ?? null, dsnRet: o.dsnRet ?? null, summary, doneAt: null, filterHeaders: o.filterHeaders ?? null,
      filterFolder: o.filterFolder ?? null,
    });
    return id;
  }

  private insertRecipient(
    messageId: string, address: string, kind: 'local' | 'remote',
    o: { originalAddress?: string | null; mailFrom?: string | null; dsnNotify?: string | null },
  ): void {
    this.state.recipients.push({
      id: String(this.nextRecipientId++), messageId, address, originalAddress: o.originalAddress ?? null, kind,
      domain: domainOfAddress(address), mailFrom: o.mailFrom ?? null, status: 'queued', attempts: 0, nextAttemptAt: this.now(),
      lastError: null, lastReply: null, dsnNotify: o.dsnNotify ?? null, delayNotified: false,
    });
  }

  private moveDelivered(ids: string[]): MemorySpoolRecipient[] {
    const wanted = new Set(ids);
    const moved = this.state.recipients.filter((r) => wanted.has(r.id) && OPEN.has(r.status));
    for (const r of moved) {
      r.status = 'delivered';
      r.attempts += 1;
      r.lastError = null;
    }
    return moved;
  }

  private hasOpen(messageId: string): boolean {
    return this.state.recipients.some((r) => r.messageId === messageId && OPEN.has(r.status));
  }

  private doneIfFinal(messageIds: string[]): void {
    for (const id of messageIds) {
      const m = this.state.messages.get(id);
      if (m && m.doneAt === null && !this.hasOpen(id)) m.doneAt = this.now();
    }
  }

  private copyOfState(): State {
    return {
      messages: new Map([...this.state.messages].map(([k, m]) => [k, { ...m }])),
      recipients: this.state.recipients.map((r) => ({ ...r })),
      autoReplies: new Map(this.state.autoReplies),
      mailLog: [...this.state.mailLog],
    };
  }
}
