import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TenantEntity, TenantStatus } from '@dizi/db/entities/tenant.entity';
import type { Actor } from '@dizi/domain/policy';
import { escapeLike } from '@dizi/db/escape-like';
import { badRequest, conflict, forbidden } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { SessionEndsService } from '../auth/session-ends.service';
import { PolicyService } from '../auth/policy.service';
import { CreateTenantDto, TenantListQueryDto, UpdateTenantDto } from './dto';

export interface TenantUsage {
  domains: number;
  mailboxes: number;
  storageBytes: number;
}

@Injectable()
export class TenantsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
    private readonly sessionEnds: SessionEndsService,
  ) {}

  async list(actor: Actor, query: TenantListQueryDto) {
    const scope = this.policy.listScope(actor);
    if (actor.role !== 'operator' && actor.role !== 'tenant_admin') throw forbidden('only operators and tenant admins list tenants');
    const qb = this.dataSource.getRepository(TenantEntity).createQueryBuilder('t');
    if (scope.tenantId) qb.andWhere('t.id = :tenantId', { tenantId: scope.tenantId });
    if (query.q) qb.andWhere('t.name ILIKE :q', { q: `%${escapeLike(query.q)}%` });
    if (query.status) qb.andWhere('t.status = :status', { status: query.status });
    const [rows, total] = await qb.orderBy('lower(t.name)').offset(query.offset).limit(query.limit).getManyAndCount();
    const usage = await this.usage(rows.map((t) => t.id));
    return { items: rows.map((t) => view(t, usage.get(t.id))), total, offset: query.offset, limit: query.limit };
  }

  async get(actor: Actor, id: string) {
    const tenant = await this.policy.tenant(actor, id, 'tenant_admin');
    return view(tenant, (await this.usage([tenant.id])).get(tenant.id));
  }

  async create(actor: Actor, ip: string, body: CreateTenantDto) {
    if (actor.role !== 'operator') throw forbidden('only operators create tenants');
    return this.dataSource.transaction(async (m) => {
      await this.assertNameFree(m, body.name);
      const tenant = await m.getRepository(TenantEntity).save(
        m.getRepository(TenantEntity).create({
          name: body.name,
          plan: body.plan,
          status: 'active',
          maxDomains: body.maxDomains ?? null,
          maxMailboxes: body.maxMailboxes ?? null,
          maxStorageBytes: body.maxStorageBytes ?? null,
        }),
      );
      await this.audit.record(m, actor, ip, { action: 'tenant.create', objectType: 'tenant', objectId: tenant.id, tenantId: tenant.id, after: tenant });
      return view(tenant, { domains: 0, mailboxes: 0, storageBytes: 0 });
    });
  }

  /** Renames and limit changes; only operators may change plan and limits. */
  async update(actor: Actor, ip: string, id: string, body: UpdateTenantDto) {
    return this.dataSource.transaction(async (m) => {
      const tenant = await this.policy.tenant(actor, id, 'tenant_admin', m);
      const limitsTouched = ['plan', 'maxDomains', 'maxMailboxes', 'maxStorageBytes'].some((k) => k in body);
      if (limitsTouched && actor.role !== 'operator') throw forbidden('only operators change a tenant plan or limits');
      const before = { ...tenant };
      if (body.name !== undefined && body.name.toLowerCase() !== tenant.name.toLowerCase()) await this.assertNameFree(m, body.name);
      Object.assign(tenant, body);
      const usage = (await this.usage([tenant.id], m)).get(tenant.id)!;
      if (tenant.maxDomains !== null && usage.domains > tenant.maxDomains) {
        throw badRequest(`the tenant already has ${usage.domains} domains, more than ${tenant.maxDomains}`, 'maxDomains');
      }
      if (tenant.maxMailboxes !== null && usage.mailboxes > tenant.maxMailboxes) {
        throw badRequest(`the tenant already has ${usage.mailboxes} mailboxes, more than ${tenant.maxMailboxes}`, 'maxMailboxes');
      }
      await m.getRepository(TenantEntity).save(tenant);
      await this.audit.record(m, actor, ip, { action: 'tenant.update', objectType: 'tenant', objectId: tenant.id, tenantId: tenant.id, before, after: tenant });
      return view(tenant, usage);
    });
  }

  /** Suspending a tenant stops every sign-in of its mailboxes and ends their sessions. */
  async setStatus(actor: Actor, ip: string, id: string, status: TenantStatus) {
    const result = await this.dataSource.transaction(async (m) => {
      const tenant = await this.policy.tenant(actor, id, 'operator', m);
      const before = { ...tenant };
      tenant.status = status;
      await m.getRepository(TenantEntity).save(tenant);
      if (status === 'suspended') {
        await m.query(`UPDATE mailbox SET token_version = token_version + 1 WHERE tenant_id = $1`, [id]);
        await m.query(
          `UPDATE refresh_token SET revoked_at = now() WHERE revoked_at IS NULL AND subject_kind = 'mailbox'
             AND subject_id IN (SELECT id FROM mailbox WHERE tenant_id = $1)`,
          [id],
        );
      }
      await this.audit.record(m, actor, ip, { action: status === 'suspended' ? 'tenant.suspend' : 'tenant.resume', objectType: 'tenant', objectId: id, tenantId: id, before, after: tenant });
      return view(tenant, (await this.usage([id], m)).get(id));
    });
    if (status === 'suspended') {
      const rows: { id: string }[] = await this.dataSource.query(`SELECT id FROM mailbox WHERE tenant_id = $1`, [id]);
      await this.sessionEnds.end(rows.map((r) => r.id));
    }
    return result;
  }

  /** Deletes the tenant with all its domains and mailboxes; the request must repeat the name. */
  async remove(actor: Actor, ip: string, id: string, confirm: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const tenant = await this.policy.tenant(actor, id, 'operator', m);
      if (confirm.trim() !== tenant.name) throw badRequest(`repeat the tenant name "${tenant.name}" in "confirm" to delete it`, 'confirm');
      const usage = (await this.usage([id], m)).get(id);
      await m.query(`UPDATE refresh_token SET revoked_at = now() WHERE revoked_at IS NULL AND subject_kind = 'mailbox' AND subject_id IN (SELECT id FROM mailbox WHERE tenant_id = $1)`, [id]);
      await m.getRepository(TenantEntity).delete(id);
      await this.audit.record(m, actor, ip, { action: 'tenant.delete', objectType: 'tenant', objectId: id, tenantId: id, before: { ...tenant, usage } });
    });
  }

  async usage(ids: string[], m: EntityManager = this.dataSource.manager): Promise<Map<string, TenantUsage>> {
    const out = new Map<string, TenantUsage>(ids.map((id) => [id, { domains: 0, mailboxes: 0, storageBytes: 0 }]));
    if (!ids.length) return out;
    const rows = await m.query(
      `SELECT t.id,
              (SELECT count(*) FROM domain d WHERE d.tenant_id = t.id)::int AS domains,
              (SELECT count(*) FROM mailbox x WHERE x.tenant_id = t.id)::int AS mailboxes,
              (SELECT coalesce(sum(used_bytes), 0) FROM mailbox x WHERE x.tenant_id = t.id)::bigint AS storage
         FROM tenant t WHERE t.id = ANY($1)`,
      [ids],
    );
    for (const r of rows) out.set(r.id, { domains: r.domains, mailboxes: r.mailboxes, storageBytes: Number(r.storage) });
    return out;
  }

  private async assertNameFree(m: EntityManager, name: string): Promise<void> {
    const [exists] = await m.query(`SELECT 1 FROM tenant WHERE lower(name) = lower($1)`, [name]);
    if (exists) throw conflict(`a tenant named "${name}" already exists`, 'name');
  }
}

function view(t: TenantEntity, usage: TenantUsage = { domains: 0, mailboxes: 0, storageBytes: 0 }) {
  return {
    id: t.id,
    name: t.name,
    plan: t.plan,
    status: t.status,
    maxDomains: t.maxDomains,
    maxMailboxes: t.maxMailboxes,
    maxStorageBytes: t.maxStorageBytes,
    usage,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}
