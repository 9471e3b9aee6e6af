/** Reads the audit trail, scoped like every other list: operators everything, tenant admins their tenant. */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from '@dizi/db/entities/audit-event.entity';
import type { Actor } from '@dizi/domain/policy';
import type { Role } from '@dizi/domain/roles';
import { forbidden, notFound } from '../../common/api-error';
import { escapeLike } from '@dizi/db/escape-like';
import { AuditListQueryDto } from './dto';
import { PolicyService } from '../auth/policy.service';

@Injectable()
export class AuditQueryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
  ) {}

  async list(actor: Actor, query: AuditListQueryDto) {
    this.policy.assertTenantReference(actor, query.tenantId);
    const qb = this.dataSource.getRepository(AuditEventEntity).createQueryBuilder('e');
    if (actor.role === 'tenant_admin') {
      // Another tenant's id answers like a missing one.
      if (query.tenantId && query.tenantId !== actor.tenantId) throw notFound('tenant');
      qb.andWhere('e.tenant_id = :own', { own: actor.tenantId });
    } else if (actor.role !== 'operator') {
      throw forbidden('only operators and tenant admins read the audit log');
    }
    // Operators may filter by a deleted tenant's id: its events outlive it.
    if (query.tenantId) qb.andWhere('e.tenant_id = :tenantId', { tenantId: query.tenantId });
    if (query.action?.endsWith('.*')) qb.andWhere(`e.action LIKE :action ESCAPE '\\'`, { action: `${escapeLike(query.action.slice(0, -1))}%` });
    else if (query.action) qb.andWhere('e.action = :action', { action: query.action });
    if (query.objectType) qb.andWhere('e.object_type = :objectType', { objectType: query.objectType });
    if (query.objectId) qb.andWhere('e.object_id = :objectId', { objectId: query.objectId });
    if (query.actor) qb.andWhere('(e.actor_id = :actor OR e.actor_name = :actor)', { actor: query.actor });
    if (query.from) qb.andWhere('e.at >= :from', { from: new Date(query.from) });
    if (query.to) qb.andWhere('e.at < :to', { to: new Date(query.to) });
    const [rows, total] = await qb.orderBy('e.at', 'DESC').addOrderBy('e.id', 'DESC').offset(query.offset).limit(query.limit).getManyAndCount();
    return { items: rows.map(view), total, offset: query.offset, limit: query.limit };
  }
}

function view(e: AuditEventEntity) {
  return {
    id: String(e.id),
    at: e.at.toISOString(),
    actor: { kind: e.actorKind, id: e.actorId, name: e.actorName, role: e.actorRole as Role },
    ip: e.ip,
    tenantId: e.tenantId,
    action: e.action,
    objectType: e.objectType,
    objectId: e.objectId,
    before: e.before as Record<string, unknown> | null,
    after: e.after as Record<string, unknown> | null,
  };
}
