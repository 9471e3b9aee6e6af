/**
 * Notices the system puts straight into a user's INBOX (no SMTP, no spool): the welcome mail of a new mailbox, the
 * quota warning and the daily quarantine digest. Each has a delivery key, so calling again (a retry, a crash, two nodes at once) never makes a second.
 */
import { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { INBOX, type MessageStore } from '@dizi/mail-store/ports/message-store';
import { noticeValues, type TemplateKind } from '@dizi/contracts/settings.contract';
import { loadMailTemplates } from '../adapters/postgres/mail-templates';
import { indexMessage, summarise } from './message-index';
import { bilingualNotice, composeMail } from './notice-templates';

interface MailboxRow {
  id: string;
  address: string;
  display_name: string;
  domain: string;
  used_bytes: string;
  quota_bytes: string;
}

export class SystemNotices {
  constructor(
    private readonly pool: Pool,
    private readonly store: MessageStore,
    private readonly hostname: string,
  ) {}

  /** The welcome mail; the API calls it after creating a mailbox. False when it was delivered before. */
  async sendWelcome(mailboxId: string): Promise<boolean> {
    const mb = await this.mailbox(mailboxId);
    if (!mb) return false;
    return this.deliver(mb, 'welcome', `welcome:${mailboxId}`);
  }

  /**
   * Sends the welcome mails the API asked for (table mailbox_welcome, written with the mailbox when the
   * `welcomeMailEnabled` setting is on) and forgets each request once its mail is in the INBOX. Run by the scheduler
   * role; several nodes at once are harmless (the delivery key). A failure leaves the request for the next run.
   * Returns how many requests were done.
   */
  async sendPendingWelcomes(limit = 100, onError: (err: unknown, mailboxId: string) => void = () => undefined): Promise<number> {
    const { rows } = await this.pool.query<{ mailbox_id: string }>(
      `SELECT mailbox_id FROM mailbox_welcome ORDER BY requested_at LIMIT $1`,
      [limit],
    );
    let done = 0;
    for (const { mailbox_id: id } of rows) {
      try {
        await this.sendWelcome(id);
        await this.pool.query(`DELETE FROM mailbox_welcome WHERE mailbox_id = $1`, [id]);
        done++;
      } catch (err) {
        onError(err, id);
      }
    }
    return done;
  }

  /**
   * After a delivery: warns once when usage reaches `percent` of the quota, and forgets the warning when usage
   * has dropped below it, so the next crossing warns again (mailbox_delivery.quota_warned_at).
   */
  async checkQuota(mailboxIds: string[], percent: number): Promise<void> {
    if (mailboxIds.length === 0) return;
    const { rows } = await this.pool.query<MailboxRow & { quota_warned_at: Date | null }>(
      `SELECT m.id, m.address, m.display_name, d.name AS domain, m.used_bytes, m.quota_bytes, md.quota_warned_at
         FROM mailbox m JOIN domain d ON d.id = m.domain_id LEFT JOIN mailbox_delivery md ON md.mailbox_id = m.id
        WHERE m.id = ANY($1)`,
      [mailboxIds],
    );
    for (const mb of rows) {
      const quota = Number(mb.quota_bytes);
      const over = quota > 0 && Number(mb.used_bytes) * 100 >= quota * percent;
      if (!over) {
        if (mb.quota_warned_at) {
          await this.pool.query(`UPDATE mailbox_delivery SET quota_warned_at = NULL WHERE mailbox_id = $1 AND quota_warned_at IS NOT NULL`, [mb.id]);
        }
        continue;
      }
      let warnedAt = mb.quota_warned_at;
      if (!warnedAt) {
        // Claiming the crossing first: of two concurrent deliveries only one gets the row back.
        const { rows: claimed } = await this.pool.query<{ quota_warned_at: Date }>(
          `INSERT INTO mailbox_delivery (mailbox_id, quota_warned_at) VALUES ($1, now())
           ON CONFLICT (mailbox_id) DO UPDATE SET quota_warned_at = now() WHERE mailbox_delivery.quota_warned_at IS NULL
           RETURNING quota_warned_at`,
          [mb.id],
        );
        if (claimed.length === 0) continue;
        warnedAt = claimed[0].quota_warned_at;
      }
      // The key names the crossing: a crash after the claim is repaired by the next delivery, never doubled.
      const key = `quota-warning:${mb.id}:${new Date(warnedAt).getTime()}`;
      const { rows: done } = await this.pool.query(`SELECT 1 FROM message WHERE delivery_key = $1`, [key]);
      if (done.length === 0) await this.deliver(mb, 'quotaWarning', key);
    }
  }

  /**
   * The daily quarantine digest (template quarantineDigest): each mailbox with entries not yet in a digest gets one
   * mail listing them, at most one a day (UTC; the delivery key names the day), and the entries are marked. Run by the
   * scheduler role's housekeeping; entries arriving after today's digest go into tomorrow's. Returns how many were sent.
   */
  async sendQuarantineDigests(retentionDays: number, now = new Date()): Promise<number> {
    const day = now.toISOString().slice(0, 10);
    const { rows: due } = await this.pool.query<{ mailbox_id: string }>(
      `SELECT DISTINCT q.mailbox_id FROM quarantine q JOIN spool_recipient r ON r.id = q.recipient_id
        WHERE q.mailbox_id IS NOT NULL AND q.digest_sent_at IS NULL AND q.released_at IS NULL AND q.deleted_at IS NULL
          AND r.held_at IS NOT NULL AND r.status IN ('queued', 'deferred')`,
    );
    let sent = 0;
    for (const { mailbox_id: id } of due) {
      const key = `quarantine-digest:${id}:${day}`;
      if ((await this.pool.query(`SELECT 1 FROM message WHERE delivery_key = $1`, [key])).rows.length > 0) continue;
      const mb = await this.mailbox(id);
      if (!mb) continue;
      const { rows: entries } = await this.pool.query<{ recipient_id: string; created_at: Date; mail_from: string; subject: string | null; reason: string; detail: string }>(
        `SELECT q.recipient_id::text, q.created_at, m.mail_from, m.summary->>'subject' AS subject, q.reason, q.detail
           FROM quarantine q JOIN spool_recipient r ON r.id = q.recipient_id JOIN spool_message m ON m.id = q.message_id
          WHERE q.mailbox_id = $1 AND q.digest_sent_at IS NULL AND q.released_at IS NULL AND q.deleted_at IS NULL
            AND r.held_at IS NOT NULL AND r.status IN ('queued', 'deferred')
          ORDER BY q.created_at LIMIT 200`,
        [id],
      );
      if (entries.length === 0) continue;
      // Senders write subjects: no control characters (line breaks would forge lines of the list).
      // eslint-disable-next-line no-control-regex
      const clean = (t: string, max: number) => t.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, max);
      const list = entries
        .map((e) => `${e.created_at.toISOString().slice(0, 16).replace('T', ' ')}  ${clean(e.mail_from || '<>', 80)}  ${clean(e.subject ?? '', 100)} (${e.reason}, ${clean(e.detail, 60)})`)
        .join('\n');
      if (await this.deliver(mb, 'quarantineDigest', key, { count: entries.length, list, retentionDays })) sent++;
      await this.pool.query(`UPDATE quarantine SET digest_sent_at = now() WHERE recipient_id = ANY($1::bigint[])`, [entries.map((e) => e.recipient_id)]);
    }
    return sent;
  }

  private async mailbox(id: string): Promise<MailboxRow | null> {
    const { rows } = await this.pool.query<MailboxRow>(
      `SELECT m.id, m.address, m.display_name, d.name AS domain, m.used_bytes, m.quota_bytes
         FROM mailbox m JOIN domain d ON d.id = m.domain_id WHERE m.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  private async deliver(mb: MailboxRow, kind: TemplateKind, deliveryKey: string, extra: Record<string, string | number> = {}): Promise<boolean> {
    const values = { ...extra, ...noticeValues({
      address: mb.address,
      displayName: mb.display_name,
      domain: mb.domain,
      usedBytes: Number(mb.used_bytes),
      quotaBytes: Number(mb.quota_bytes),
    }) };
    const notice = bilingualNotice(await loadMailTemplates(this.pool), kind, values);
    const mail = await composeMail({
      from: { name: 'Postmaster', address: `postmaster@${mb.domain}` },
      to: mb.address,
      subject: notice.subject,
      text: notice.body,
      hostname: this.hostname,
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
    const blob = await this.store.putBlob(Readable.from([mail.raw]));
    const indexed = indexMessage(await summarise(mail.raw));
    // A notice must arrive even when the mailbox is full: that is when the warning matters most.
    const result = await this.store.append(mb.id, { name: INBOX }, {
      blobHash: blob.hash,
      headerPrefix: `Delivered-To: ${mb.address}\r\n`,
      summary: indexed.summary,
      sortFields: indexed.sortFields,
      searchKeys: indexed.searchKeys,
      deliveryKey,
    }, { enforceQuota: false });
    return !result.duplicate;
  }
}
