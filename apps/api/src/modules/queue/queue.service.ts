/**
 * The mail queue as operators see it: spool recipients not yet final, why each waits, retry now, hold and
 * release, delete, one or many; and the transport routes the outbound queue checks before MX lookups.
 * Retrying only moves next_attempt_at: the mail nodes' sweepers hand due work to a worker within seconds, so
 * the API never needs to know the queue's Redis layout. Holding sets held_at; a trigger then keeps
 * next_attempt_at at infinity whoever updates the row, so no node tries it (a try already running finishes).
 * A tenant admin may look at a queue entry of their own tenant.
 */
import { isIP } from 'node:net';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { CreateTransportRouteRequest, QueueActionRequest, QueueListQuery } from '@dizi/contracts/queue.contract';
import { InvalidDomainNameError, normaliseDomainName } from '@dizi/domain/domain-name';
import { domainKey } from '@dizi/domain/lookup-key';
import type { Actor } from '@dizi/domain/policy';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { escapeLike } from '@dizi/db/escape-like';

/** Counting every waiting recipient of a huge backlog would cost more than the page itself. */
const COUNT_CAP = 10_000;
const OPEN = `r.status IN ('queued', 'deferred')`;

interface EntryRow {
  id: string;
  message_id: string;
  mail_from: string;
  address: string;
  original_address: string | null;
  kind: 'local' | 'remote';
  domain: string;
  status: 'queued' | 'deferred' | 'delivered' | 'bounced' | 'failed' | 'deleted';
  source: 'smtp' | 'submission' | 'system';
  size: string;
  attempts: number;
  received_at: Date;
  /** Null while held (infinity in the row). */
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_error: string | null;
  last_reply: string | null;
  held_at: Date | null;
  tenant_id: string | null;
}

interface RouteRow {
  id: string;
  domain: string;
  host: string;
  port: number;
  require_tls: boolean;
  created_at: Date;
}

// The tenant an entry belongs to: the authenticated sender's, else the local recipient domain's.
const ENTRY_SELECT = `
  SELECT r.id::text, r.message_id, m.mail_from, r.address, r.original_address, r.kind, r.domain, r.status, m.source, m.size::text,
         r.attempts, m.received_at, NULLIF(r.next_attempt_at, 'infinity') AS next_attempt_at, r.last_attempt_at, r.last_error, r.last_reply, r.held_at,
         COALESCE(sm.tenant_id, rd.tenant_id) AS tenant_id
    FROM spool_recipient r
    JOIN spool_message m ON m.id = r.message_id
    LEFT JOIN mailbox sm ON sm.id = m.auth_mailbox_id
    LEFT JOIN domain rd ON r.kind = 'local' AND rd.name = r.domain`;

const ID = /^[1-9][0-9]{0,17}$/;

function operatorsOnly(actor: Actor, what: string): void {
  if (actor.role !== 'operator') throw forbidden(`only operators ${what}`);
}

@Injectable()
export class QueueService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async list(actor: Actor, query: QueueListQuery) {
    operatorsOnly(actor, 'see the mail queue');
    const where = [OPEN];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replaceAll('?', `$${params.length}`));
    };
    if (query.status) add('r.status = ?', query.status);
    if (query.domain) add('r.domain = ?', domainKey(query.domain));
    if (query.q) add(`(lower(r.address) LIKE ? ESCAPE '\\' OR lower(m.mail_from) LIKE ? ESCAPE '\\')`, `%${escapeLike(query.q.toLowerCase())}%`);
    if (query.held !== undefined) where.push(query.held ? 'r.held_at IS NOT NULL' : 'r.held_at IS NULL');
    if (query.olderThanMinutes) add(`m.received_at <= now() - make_interval(mins => ?)`, query.olderThanMinutes);
    const filter = `WHERE ${where.join(' AND ')}`;
    const rows: EntryRow[] = await this.dataSource.query(
      `${ENTRY_SELECT} ${filter} ORDER BY m.received_at, r.id OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
      [...params, query.offset, query.limit],
    );
    const [{ n }] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM spool_recipient r JOIN spool_message m ON m.id = r.message_id ${filter} LIMIT ${COUNT_CAP}) c`,
      params,
    );
    return { items: rows.map(entryView), total: n, offset: query.offset, limit: query.limit };
  }

  async get(actor: Actor, id: string) {
    return entryView(await this.load(this.dataSource.manager, actor, id, false));
  }

  async retry(actor: Actor, ip: string, id: string) {
    return this.dataSource.transaction(async (m) => {
      const before = await this.load(m, actor, id, true);
      if (before.status !== 'queued' && before.status !== 'deferred') {
        throw conflict(`recipient ${before.address} is already ${before.status}; only queued or deferred recipients can be retried`);
      }
      if (before.held_at) throw conflict(`recipient ${before.address} is held; release it to try again`);
      await m.query(`UPDATE spool_recipient SET next_attempt_at = now() WHERE id = $1`, [before.id]);
      const after = await this.load(m, actor, id, true);
      await this.audit.record(m, actor, ip, {
        action: 'queue.retry', objectType: 'spool_recipient', objectId: before.id, tenantId: before.tenant_id,
        before: { nextAttemptAt: before.next_attempt_at }, after: { nextAttemptAt: after.next_attempt_at },
      });
      return entryView(after);
    });
  }

  /** Stops trying this recipient until it is released; the mail stays in the queue. */
  async hold(actor: Actor, ip: string, id: string) {
    return this.dataSource.transaction(async (m) => {
      const before = await this.load(m, actor, id, true);
      if (before.status !== 'queued' && before.status !== 'deferred') {
        throw conflict(`recipient ${before.address} is already ${before.status}; only queued or deferred recipients can be held`);
      }
      if (before.held_at) throw conflict(`recipient ${before.address} is held already`);
      // The trigger spool_recipient_keep_held sets next_attempt_at to infinity in this same update.
      await m.query(`UPDATE spool_recipient SET held_at = now() WHERE id = $1`, [before.id]);
      const after = await this.load(m, actor, id, true);
      await this.audit.record(m, actor, ip, {
        action: 'queue.hold', objectType: 'spool_recipient', objectId: before.id, tenantId: before.tenant_id,
        before: { heldAt: null, nextAttemptAt: before.next_attempt_at }, after: { heldAt: after.held_at },
      });
      return entryView(after);
    });
  }

  /** Releases a held recipient: it is due at once, and the next sweep hands it to a worker. */
  async release(actor: Actor, ip: string, id: string) {
    return this.dataSource.transaction(async (m) => {
      const before = await this.load(m, actor, id, true);
      if (!before.held_at) throw conflict(`recipient ${before.address} is not held`);
      await m.query(`UPDATE spool_recipient SET held_at = NULL, next_attempt_at = now() WHERE id = $1`, [before.id]);
      // A quarantined recipient released from the queue is released from the quarantine too: its entry closes, as
      // a release through /api/quarantine closes it, so it is neither listed nor digested nor expired later.
      const quarantined: unknown[] = await m.query(
        `UPDATE quarantine SET released_at = now() WHERE recipient_id = $1 AND released_at IS NULL AND deleted_at IS NULL RETURNING recipient_id`,
        [before.id],
      );
      const after = await this.load(m, actor, id, true);
      await this.audit.record(m, actor, ip, {
        action: 'queue.release', objectType: 'spool_recipient', objectId: before.id, tenantId: before.tenant_id,
        before: { heldAt: before.held_at },
        after: { heldAt: null, nextAttemptAt: after.next_attempt_at, ...(quarantined.length > 0 ? { quarantineReleased: true } : {}) },
      });
      return entryView(after);
    });
  }

  /**
   * One action over many entries, each in its own transaction (and audit entry), so one entry that moved on
   * meanwhile does not undo the others; every id gets its outcome.
   */
  async act(actor: Actor, ip: string, body: QueueActionRequest) {
    operatorsOnly(actor, 'act on the mail queue');
    const results: { id: string; outcome: 'done' | 'not_found' | 'conflict'; message: string | null }[] = [];
    for (const id of [...new Set(body.ids)]) {
      try {
        if (body.action === 'retry') await this.retry(actor, ip, id);
        else if (body.action === 'hold') await this.hold(actor, ip, id);
        else if (body.action === 'release') await this.release(actor, ip, id);
        else await this.remove(actor, ip, id);
        results.push({ id, outcome: 'done', message: null });
      } catch (e) {
        if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 409)) throw e;
        results.push({ id, outcome: e.status === 404 ? 'not_found' : 'conflict', message: e.message });
      }
    }
    return { done: results.filter((r) => r.outcome === 'done').length, results };
  }

  async remove(actor: Actor, ip: string, id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const before = await this.load(m, actor, id, true);
      if (before.status !== 'queued' && before.status !== 'deferred') {
        throw conflict(`recipient ${before.address} is already ${before.status}; only queued or deferred recipients can be deleted`);
      }
      await m.query(`UPDATE spool_recipient SET status = 'deleted', last_error = $2 WHERE id = $1`, [before.id, `deleted by ${actor.name}`]);
      // Its quarantine entry, if any, closes as deleted (the same as a delete through /api/quarantine).
      await m.query(`UPDATE quarantine SET deleted_at = now() WHERE recipient_id = $1 AND released_at IS NULL AND deleted_at IS NULL`, [before.id]);
      // The message is finished once none of its recipients waits any more.
      await m.query(
        `UPDATE spool_message SET done_at = now()
          WHERE id = $1 AND done_at IS NULL AND NOT EXISTS (SELECT 1 FROM spool_recipient WHERE message_id = $1 AND status IN ('queued', 'deferred'))`,
        [before.message_id],
      );
      await this.audit.record(m, actor, ip, {
        action: 'queue.delete', objectType: 'spool_recipient', objectId: before.id, tenantId: before.tenant_id,
        before: { status: before.status, sender: before.mail_from, recipient: before.address, heldAt: before.held_at }, after: { status: 'deleted' },
      });
    });
  }

  async routes(actor: Actor) {
    operatorsOnly(actor, 'manage transport routes');
    const rows: RouteRow[] = await this.dataSource.query(`SELECT id, domain, host, port, require_tls, created_at FROM transport_route ORDER BY domain`);
    return { items: rows.map(routeView) };
  }

  async createRoute(actor: Actor, ip: string, body: CreateTransportRouteRequest) {
    operatorsOnly(actor, 'manage transport routes');
    let domain: string;
    try {
      domain = normaliseDomainName(body.domain).name;
    } catch (e) {
      if (e instanceof InvalidDomainNameError) throw badRequest(`domain: ${e.message}; give a domain name like example.com`, 'domain');
      throw e;
    }
    const host = body.host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
    if (!isIP(host) && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
      throw badRequest('host: must be a host name like smtp.example.com or an IP address', 'host');
    }
    return this.dataSource.transaction(async (m) => {
      const rows: RouteRow[] = await m.query(
        `INSERT INTO transport_route (domain, host, port, require_tls) VALUES ($1, $2, $3, $4)
         ON CONFLICT (domain) DO NOTHING RETURNING id, domain, host, port, require_tls, created_at`,
        [domain, host, body.port, body.requireTls],
      );
      if (!rows[0]) throw conflict(`domain: a transport route for ${domain} exists already; delete it first`, 'domain');
      const view = routeView(rows[0]);
      await this.audit.record(m, actor, ip, { action: 'transport_route.create', objectType: 'transport_route', objectId: view.id, after: view });
      return view;
    });
  }

  async removeRoute(actor: Actor, ip: string, id: string): Promise<void> {
    // Routes belong to the installation: to anyone else, no route exists.
    if (actor.role !== 'operator') throw notFound('transport route');
    await this.dataSource.transaction(async (m) => {
      // TypeORM answers a DELETE with [rows, count].
      const [rows]: [RouteRow[], number] = /^[0-9a-f-]{36}$/i.test(id)
        ? await m.query(`DELETE FROM transport_route WHERE id = $1 RETURNING id, domain, host, port, require_tls, created_at`, [id])
        : [[], 0];
      if (!rows[0]) throw notFound('transport route');
      await this.audit.record(m, actor, ip, { action: 'transport_route.delete', objectType: 'transport_route', objectId: id, before: routeView(rows[0]) });
    });
  }

  /**
   * A queue entry as the actor may see it: operators any, tenant admins their own tenant's (read only);
   * everything else answers 404 like a missing entry, and a visible entry the role may not change 403.
   */
  private async load(m: EntityManager, actor: Actor, id: string, change: boolean): Promise<EntryRow> {
    const rows: EntryRow[] = ID.test(id) ? await m.query(`${ENTRY_SELECT} WHERE r.id = $1${change ? ' FOR UPDATE OF r' : ''}`, [id]) : [];
    const row = rows[0];
    if (!row) throw notFound('queue entry');
    if (actor.role === 'operator') return row;
    if (actor.role !== 'tenant_admin' || !row.tenant_id || row.tenant_id !== actor.tenantId) throw notFound('queue entry');
    if (change) throw forbidden('only operators retry, hold, release or delete queued mail');
    return row;
  }
}

function entryView(r: EntryRow) {
  return {
    id: r.id,
    messageId: r.message_id,
    sender: r.mail_from,
    recipient: r.address,
    originalRecipient: r.original_address,
    kind: r.kind,
    domain: r.domain,
    status: r.status,
    source: r.source,
    size: Number(r.size),
    attempts: r.attempts,
    receivedAt: r.received_at.toISOString(),
    nextAttemptAt: r.next_attempt_at?.toISOString() ?? null,
    lastAttemptAt: r.last_attempt_at?.toISOString() ?? null,
    lastError: r.last_error,
    lastReply: r.last_reply,
    heldAt: r.held_at?.toISOString() ?? null,
  };
}

function routeView(r: RouteRow) {
  return { id: r.id, domain: r.domain, host: r.host, port: r.port, requireTls: r.require_tls, createdAt: r.created_at.toISOString() };
}
