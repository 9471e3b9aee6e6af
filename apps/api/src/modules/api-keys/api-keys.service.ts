import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ApiKeyEntity } from '@dizi/db/entities/identity.entity';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, conflict, forbidden, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { ApiKeyService } from '../auth/api-key.service';
import { isUuid, PolicyService } from '../auth/policy.service';
import { ApiKeyListQueryDto, CreateApiKeyDto } from './dto';

export type ApiKeyStatus = 'active' | 'revoked' | 'expired';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
  ) {}

  async list(actor: Actor, query: ApiKeyListQueryDto) {
    this.policy.assertTenantReference(actor, query.tenantId);
    if (actor.role !== 'operator' && actor.role !== 'tenant_admin') throw forbidden('only operators and tenant admins manage API keys');
    if (query.tenantId) await this.policy.tenant(actor, query.tenantId, 'tenant_admin');
    const qb = this.dataSource.getRepository(ApiKeyEntity).createQueryBuilder('k');
    const scope = this.policy.listScope(actor);
    if (scope.tenantId) qb.andWhere('k.tenant_id = :own', { own: scope.tenantId });
    if (query.tenantId) qb.andWhere('k.tenant_id = :tenantId', { tenantId: query.tenantId });
    if (query.status === 'revoked') qb.andWhere('k.revoked_at IS NOT NULL');
    if (query.status === 'expired') qb.andWhere('k.revoked_at IS NULL AND k.expires_at <= now()');
    if (query.status === 'active') qb.andWhere('k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())');
    const [rows, total] = await qb.orderBy('k.created_at', 'DESC').addOrderBy('k.id').offset(query.offset).limit(query.limit).getManyAndCount();
    return { items: rows.map((k) => view(k)), total, offset: query.offset, limit: query.limit };
  }

  async get(actor: Actor, id: string) {
    return view(await this.load(actor, id));
  }

  /** Operators create any key; tenant admins only tenant_admin keys of their own tenant. */
  async create(actor: Actor, ip: string, body: CreateApiKeyDto) {
    this.policy.assertTenantReference(actor, body.tenantId);
    if (actor.role !== 'operator' && actor.role !== 'tenant_admin') throw forbidden('only operators and tenant admins create API keys');
    if (body.role === 'operator' && actor.role !== 'operator') throw forbidden('only operators create operator keys');
    if (body.role === 'operator' && body.tenantId) throw badRequest('operator keys belong to no tenant: leave tenantId out, or choose role tenant_admin', 'tenantId');
    const tenantId = body.role === 'tenant_admin' ? (body.tenantId ?? (actor.role === 'tenant_admin' ? actor.tenantId : undefined)) : undefined;
    if (body.role === 'tenant_admin' && !tenantId) throw badRequest('a tenant_admin key needs the tenant it acts for in tenantId', 'tenantId');
    const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
    if (expiresAt && expiresAt <= new Date()) throw badRequest('expiresAt is in the past; give a moment in the future or leave it out', 'expiresAt');
    const { prefix, key, hash } = ApiKeyService.mint();
    return this.dataSource.transaction(async (m) => {
      if (tenantId) await this.policy.tenant(actor, tenantId, 'tenant_admin', m);
      const repo = m.getRepository(ApiKeyEntity);
      const row = await repo.save(
        repo.create({ name: body.name, role: body.role, tenantId: tenantId ?? null, prefix, keyHash: hash, createdBy: actor.name, expiresAt, lastUsedAt: null, revokedAt: null }),
      );
      await this.audit.record(m, actor, ip, { action: 'api_key.create', objectType: 'api_key', objectId: row.id, tenantId: row.tenantId, after: view(row) });
      return { ...view(row), key };
    });
  }

  async revoke(actor: Actor, ip: string, id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const row = await this.load(actor, id, m);
      if (row.revokedAt) throw conflict(`the API key was already revoked at ${row.revokedAt.toISOString()}`);
      const before = view(row);
      row.revokedAt = new Date();
      await m.getRepository(ApiKeyEntity).update(row.id, { revokedAt: row.revokedAt });
      await this.audit.record(m, actor, ip, { action: 'api_key.revoke', objectType: 'api_key', objectId: row.id, tenantId: row.tenantId, before, after: view(row) });
    });
  }

  /** Operator keys are seen only by operators; tenant keys by their tenant's admins. */
  private async load(actor: Actor, id: string, m: EntityManager = this.dataSource.manager): Promise<ApiKeyEntity> {
    const row = isUuid(id) ? await m.getRepository(ApiKeyEntity).findOneBy({ id }) : null;
    if (!row) throw notFound('API key');
    this.policy.check(actor, { tenantId: row.tenantId }, 'tenant_admin', 'API key');
    return row;
  }
}

export function statusOf(k: ApiKeyEntity, now = new Date()): ApiKeyStatus {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && k.expiresAt <= now) return 'expired';
  return 'active';
}

function view(k: ApiKeyEntity) {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    tenantId: k.tenantId,
    prefix: k.prefix,
    status: statusOf(k),
    createdBy: k.createdBy,
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}
