/**
 * Reads mail_log, scoped like the audit log: operators everything, tenant admins their tenant's rows, domain admins
 * their domain's deliveries, bounces and outbound attempts (not SMTP sessions, which may span domains).
 */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor } from '@dizi/domain/policy';
import { forbidden } from '../../common/api-error';
import { PolicyService } from '../auth/policy.service';
import { escapeLike } from '@dizi/db/escape-like';
import { MailLogQueryDto } from './dto';

/** Counting every match of a broad filter over a large log would cost more than the page itself. */
const COUNT_CAP = 10_000;
const LEVELS_FROM: Record<string, string[]> = { info: ['info', 'warn', 'error'], warn: ['warn', 'error'], error: ['error'] };

interface MailLogRow {
  id: string;
  at: Date;
  level: 'info' | 'warn' | 'error';
  kind: 'session' | 'delivery' | 'outbound' | 'bounce';
  node: string;
  session_id: string | null;
  message_id: string | null;
  client_ip: string | null;
  helo: string | null;
  mail_from: string | null;
  recipients: string[];
  size: string | null;
  result: string;
  reason: string;
  tenant_id: string | null;
}

@Injectable()
export class MailLogsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
  ) {}

  async list(actor: Actor, query: MailLogQueryDto) {
    // Another tenant's id answers 404 before any role check, like a tenant that does not exist.
    this.policy.assertTenantReference(actor, query.tenantId);
    if (actor.role !== 'operator' && actor.role !== 'tenant_admin' && actor.role !== 'domain_admin') {
      throw forbidden('only operators, tenant admins and domain admins read the mail log');
    }

    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    // The actor's own scope first; the query's filters only narrow it.
    if (actor.role === 'tenant_admin') add('tenant_id = ?', actor.tenantId);
    if (actor.role === 'domain_admin') {
      // Their domain's deliveries, bounces and outbound attempts (domain_id is set on those only, never on sessions).
      add('tenant_id = ?', actor.tenantId);
      add('domain_id = ?', actor.domainId);
    }
    if (query.tenantId) add('tenant_id = ?', query.tenantId);
    if (query.from) add('at >= ?', new Date(query.from));
    if (query.to) add('at < ?', new Date(query.to));
    if (query.level) add('level = ANY(?)', LEVELS_FROM[query.level]);
    if (query.kind) add('kind = ?', query.kind);
    if (query.sessionId) add('session_id = ?', query.sessionId);
    if (query.messageId) add('message_id = ?', query.messageId);
    // `search` is lower case and trigram-indexed, so a fragment anywhere in it is found without a scan.
    if (query.q) add(`search LIKE ? ESCAPE '\\'`, `%${escapeLike(query.q.toLowerCase())}%`);
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';

    const rows: MailLogRow[] = await this.dataSource.query(
      `SELECT id::text, at, level, kind, node, session_id, message_id, client_ip, helo, mail_from, recipients, size::text, result, reason, tenant_id
         FROM mail_log ${filter} ORDER BY at DESC, id DESC OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
      [...params, query.offset, query.limit],
    );
    const [{ n }] = await this.dataSource.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM mail_log ${filter} LIMIT ${COUNT_CAP + 1}) c`, params);
    return {
      items: rows.map(view),
      total: Math.min(n, COUNT_CAP),
      totalIsLowerBound: n > COUNT_CAP,
      offset: query.offset,
      limit: query.limit,
    };
  }
}

function view(r: MailLogRow) {
  return {
    id: r.id,
    at: r.at.toISOString(),
    level: r.level,
    kind: r.kind,
    node: r.node,
    sessionId: r.session_id,
    messageId: r.message_id,
    clientIp: r.client_ip,
    helo: r.helo,
    mailFrom: r.mail_from,
    recipients: r.recipients,
    size: r.size === null ? null : Number(r.size),
    result: r.result,
    reason: r.reason,
    tenantId: r.tenant_id,
  };
}
