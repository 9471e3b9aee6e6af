/**
 * The quarantine (issue 18): held messages as their recipients' users and the admins see them. A user sees the
 * entries of their own mailbox, a domain admin those of their domain, a tenant admin the tenant's, an operator all.
 * Releasing lifts the hold of the spooled recipient (the mail nodes' sweeper delivers it to INBOX within seconds);
 * deleting marks it deleted (the spool retention sweep removes message and blob). Only admins release a virus.
 */
import { Injectable } from '@nestjs/common';
import { simpleParser } from 'mailparser';
import { DataSource, EntityManager } from 'typeorm';
import { DEFAULT_SMTP_SETTINGS } from '@dizi/contracts/mail-settings.contract';
import type { QuarantineListQuery } from '@dizi/contracts/quarantine.contract';
import { escapeLike } from '@dizi/db/escape-like';
import { type Actor, canAccess, canSee } from '@dizi/domain/policy';
import { forbidden, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { JmapService } from '../jmap/jmap.service';

const COUNT_CAP = 10_000;
const ID = /^[1-9][0-9]{0,17}$/;
/** What a preview reads of a message at most: enough for the header and the start of the text. */
const PREVIEW_BYTES = 256 * 1024;
const OPEN = `q.released_at IS NULL AND q.deleted_at IS NULL AND r.status IN ('queued', 'deferred') AND r.held_at IS NOT NULL`;

interface EntryRow {
  id: string;
  address: string;
  mail_from: string;
  subject: string | null;
  reason: 'spam' | 'virus';
  detail: string;
  spam_score: number | null;
  size: string;
  created_at: Date;
  mailbox_id: string | null;
  domain_id: string | null;
  tenant_id: string | null;
  blob_hash: string;
  message_id: string;
}

const SELECT = `
  SELECT q.recipient_id::text AS id, q.address, m.mail_from, m.summary->>'subject' AS subject, q.reason, q.detail, q.spam_score, m.size::text,
         q.created_at, q.mailbox_id, q.domain_id, q.tenant_id, m.blob_hash, q.message_id
    FROM quarantine q
    JOIN spool_recipient r ON r.id = q.recipient_id
    JOIN spool_message m ON m.id = q.message_id`;

@Injectable()
export class QuarantineService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly jmap: JmapService,
  ) {}

  async list(actor: Actor, query: QuarantineListQuery) {
    const where = [OPEN];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    // Scoped at the query: nobody pages through entries they may not see.
    if (actor.role === 'tenant_admin') add('q.tenant_id = ?', actor.tenantId);
    else if (actor.role === 'domain_admin') add('q.domain_id = ?', actor.domainId);
    else if (actor.role === 'user') add('q.mailbox_id = ?', actor.mailboxId);
    else if (actor.role !== 'operator') throw forbidden();
    if (query.reason) add('q.reason = ?', query.reason);
    if (query.q) add(`(q.address ILIKE ? OR m.mail_from ILIKE $${params.length + 1} OR m.summary->>'subject' ILIKE $${params.length + 1})`, `%${escapeLike(query.q)}%`);
    const filter = where.join(' AND ');
    const rows: EntryRow[] = await this.dataSource.query(
      `${SELECT} WHERE ${filter} ORDER BY q.created_at DESC, q.recipient_id DESC OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
      [...params, query.offset, query.limit],
    );
    const [{ n }] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM quarantine q JOIN spool_recipient r ON r.id = q.recipient_id JOIN spool_message m ON m.id = q.message_id
        WHERE ${filter} LIMIT ${COUNT_CAP}) c`,
      params,
    );
    const days = await this.retentionDays();
    return { items: rows.map((r) => view(r, days)), total: n, offset: query.offset, limit: query.limit };
  }

  /** The entry with its header and the start of its plain text: nothing is rendered, no attachment is served. */
  async preview(actor: Actor, id: string) {
    const row = await this.load(this.dataSource.manager, actor, id, 'read');
    const mail = await this.jmap.mail();
    const bytes = await mail.runtime.blobs.read(row.blob_hash, { start: 0, end: PREVIEW_BYTES });
    const raw = bytes.toString('latin1');
    const end = raw.search(/\r?\n\r?\n/);
    const header = (end < 0 ? raw : raw.slice(0, end)).slice(0, 32 * 1024);
    const parsed = await simpleParser(bytes, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
    return {
      ...view(row, await this.retentionDays()),
      header,
      text: (parsed.text ?? '').slice(0, 16 * 1024),
      attachments: parsed.attachments.map((a) => a.filename ?? '(unnamed)').slice(0, 100),
    };
  }

  async release(actor: Actor, ip: string, id: string) {
    return this.dataSource.transaction(async (m) => {
      const row = await this.load(m, actor, id, 'write', true);
      if (row.reason === 'virus' && actor.role === 'user') throw forbidden('only an administrator may release a message held for a virus');
      await m.query(`UPDATE spool_recipient SET held_at = NULL, next_attempt_at = now() WHERE id = $1`, [row.id]);
      await m.query(`UPDATE quarantine SET released_at = now() WHERE recipient_id = $1`, [row.id]);
      await this.audit.record(m, actor, ip, {
        action: 'quarantine.release', objectType: 'quarantine', objectId: row.id, tenantId: row.tenant_id,
        before: { recipient: row.address, sender: row.mail_from, reason: row.reason, detail: row.detail }, after: { released: true },
      });
      return view(row, await this.retentionDays(m));
    });
  }

  async remove(actor: Actor, ip: string, id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const row = await this.load(m, actor, id, 'write', true);
      await m.query(`UPDATE spool_recipient SET status = 'deleted', last_error = $2 WHERE id = $1`, [row.id, `quarantine: deleted by ${actor.name}`]);
      await m.query(`UPDATE quarantine SET deleted_at = now() WHERE recipient_id = $1`, [row.id]);
      await m.query(
        `UPDATE spool_message SET done_at = now()
          WHERE id = $1 AND done_at IS NULL AND NOT EXISTS (SELECT 1 FROM spool_recipient WHERE message_id = $1 AND status IN ('queued', 'deferred'))`,
        [row.message_id],
      );
      await this.audit.record(m, actor, ip, {
        action: 'quarantine.delete', objectType: 'quarantine', objectId: row.id, tenantId: row.tenant_id,
        before: { recipient: row.address, sender: row.mail_from, reason: row.reason, detail: row.detail }, after: { deleted: true },
      });
    });
  }

  /** 404 for what the actor may not see (or is no longer held), 403 for what they see but may not change. */
  private async load(m: EntityManager, actor: Actor, id: string, access: 'read' | 'write', lock = false): Promise<EntryRow> {
    if (!ID.test(id)) throw notFound('quarantine entry');
    const [row]: EntryRow[] = await m.query(`${SELECT} WHERE q.recipient_id = $1 AND ${OPEN}${lock ? ' FOR UPDATE OF r, q' : ''}`, [id]);
    const scope = { tenantId: row?.tenant_id ?? null, domainId: row?.domain_id ?? null, mailboxId: row?.mailbox_id ?? null };
    // An entry of no hosted mailbox (an alias or group address) is the admins' only.
    if (!row || !canSee(actor, scope) || (actor.role === 'user' && !canAccess(actor, scope, 'user'))) throw notFound('quarantine entry');
    if (access === 'write' && !canAccess(actor, scope, 'user')) throw forbidden();
    return row;
  }

  private async retentionDays(m: Pick<EntityManager, 'query'> = this.dataSource): Promise<number> {
    const [row] = await m.query(`SELECT value->'quarantineRetentionDays' AS days FROM system_setting WHERE key = 'smtp'`);
    const days = Number(row?.days);
    return Number.isInteger(days) && days > 0 ? days : DEFAULT_SMTP_SETTINGS.quarantineRetentionDays;
  }
}

function view(r: EntryRow, retentionDays: number) {
  return {
    id: r.id,
    recipient: r.address,
    sender: r.mail_from,
    subject: r.subject ?? '',
    reason: r.reason,
    detail: r.detail,
    spamScore: r.spam_score,
    size: Number(r.size),
    receivedAt: r.created_at.toISOString(),
    expiresAt: new Date(r.created_at.getTime() + retentionDays * 86_400_000).toISOString(),
  };
}
