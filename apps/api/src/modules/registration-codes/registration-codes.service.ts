/**
 * Registration codes: operators issue signed codes binding a domain and maximum counts; a tenant
 * redeems one and from then on its domain and mailbox counts are limited by it (LimitsService).
 *
 * Rules, kept simple on purpose:
 * - One active code per tenant; redeeming a new one revokes the old in the same transaction.
 * - Redeeming needs the tenant to own the code's domain already, or to have room to create it
 *   (nobody else owns the name, and one more domain fits the code and the plan). The slot is not
 *   held afterwards: the code's domain counts like any other domain, so a tenant that fills its
 *   domains with others must delete one before adding the code's domain. Another tenant creating
 *   that name in the meantime is not prevented.
 * - `expiresAt` is the last moment a code can be redeemed; a code already bound keeps limiting its
 *   tenant until it is revoked or replaced.
 * - When the bound tenant is deleted the code falls free (tenant_id SET NULL) and can be redeemed again.
 */
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { InvalidRegistrationCodeError, RegistrationPayload, signRegistrationCode, verifyRegistrationCode } from '@dizi/auth/registration-code';
import { RegistrationCodeEntity } from '@dizi/db/entities/registration-code.entity';
import { InvalidDomainNameError, normaliseDomainName } from '@dizi/domain/domain-name';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, conflict, forbidden, limitReached, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { isUuid, PolicyService } from '../auth/policy.service';
import { SystemKeyService } from '../auth/system-key.service';
import { LimitsService } from '../tenants/limits.service';
import { CreateRegistrationCodeDto, RedeemRegistrationCodeDto, RegistrationCodeListQueryDto } from './dto';

/** The system_key purpose of the installation's own signing key pair. */
export const REGISTRATION_CODE_KEY = 'registration-code';

export type RegistrationCodeStatus = 'issued' | 'redeemed' | 'revoked' | 'expired';

@Injectable()
export class RegistrationCodesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
    private readonly systemKeys: SystemKeyService,
    private readonly limits: LimitsService,
  ) {}

  async list(actor: Actor, query: RegistrationCodeListQueryDto) {
    this.policy.assertTenantReference(actor, query.tenantId);
    const qb = this.dataSource.getRepository(RegistrationCodeEntity).createQueryBuilder('rc');
    if (actor.role === 'tenant_admin') {
      if (query.tenantId && query.tenantId !== actor.tenantId) throw notFound('tenant');
      qb.andWhere('rc.tenant_id = :own', { own: actor.tenantId });
    } else if (actor.role !== 'operator') {
      throw forbidden('only operators and tenant admins see registration codes');
    }
    if (query.tenantId) qb.andWhere('rc.tenant_id = :tenantId', { tenantId: query.tenantId });
    // Same precedence as statusOf(): revoked, then redeemed, then expired.
    switch (query.status) {
      case 'revoked':
        qb.andWhere('rc.revoked_at IS NOT NULL');
        break;
      case 'redeemed':
        qb.andWhere('rc.revoked_at IS NULL AND rc.tenant_id IS NOT NULL');
        break;
      case 'expired':
        qb.andWhere('rc.revoked_at IS NULL AND rc.tenant_id IS NULL AND rc.expires_at <= now()');
        break;
      case 'issued':
        qb.andWhere('rc.revoked_at IS NULL AND rc.tenant_id IS NULL AND (rc.expires_at IS NULL OR rc.expires_at > now())');
        break;
    }
    const [rows, total] = await qb.orderBy('rc.issued_at', 'DESC').addOrderBy('rc.id').offset(query.offset).limit(query.limit).getManyAndCount();
    return { items: rows.map((r) => view(r)), total, offset: query.offset, limit: query.limit };
  }

  async get(actor: Actor, id: string) {
    return view(await this.load(actor, id, 'tenant_admin'));
  }

  async issue(actor: Actor, ip: string, body: CreateRegistrationCodeDto) {
    if (actor.role !== 'operator') throw forbidden('only operators issue registration codes');
    let domain: string;
    try {
      domain = normaliseDomainName(body.domain).name;
    } catch (e) {
      if (e instanceof InvalidDomainNameError) throw badRequest(e.message, 'domain');
      throw e;
    }
    const issuedAt = new Date();
    const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
    if (expiresAt && expiresAt <= issuedAt) throw badRequest('expiresAt is in the past; give a moment in the future or leave it out', 'expiresAt');
    const payload: RegistrationPayload = {
      v: 1,
      id: randomUUID(),
      domain,
      maxDomains: body.maxDomains,
      maxMailboxes: body.maxMailboxes,
      issuedAt: issuedAt.toISOString(),
      ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
    };
    const code = signRegistrationCode(payload, (await this.systemKeys.get(REGISTRATION_CODE_KEY)).privateKey);
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(RegistrationCodeEntity);
      const row = await repo.save(
        repo.create({
          id: payload.id, domain, maxDomains: body.maxDomains, maxMailboxes: body.maxMailboxes, expiresAt, issuedAt,
          issuedBy: actor.name, tenantId: null, redeemedAt: null, revokedAt: null,
        }),
      );
      await this.audit.record(m, actor, ip, { action: 'registration_code.issue', objectType: 'registration_code', objectId: row.id, after: view(row) });
      return { ...view(row), code };
    });
  }

  async revoke(actor: Actor, ip: string, id: string) {
    return this.dataSource.transaction(async (m) => {
      const row = await this.load(actor, id, 'operator', m);
      if (row.revokedAt) throw conflict(`the registration code was already revoked at ${row.revokedAt.toISOString()}`);
      await this.revokeRow(m, actor, ip, row, 'registration_code.revoke');
      return view(row);
    });
  }

  async redeem(actor: Actor, ip: string, body: RedeemRegistrationCodeDto) {
    this.policy.assertTenantReference(actor, body.tenantId);
    if (actor.role !== 'operator' && actor.role !== 'tenant_admin') throw forbidden('only operators and tenant admins redeem registration codes');
    const tenantId = body.tenantId ?? (actor.role === 'tenant_admin' ? actor.tenantId : undefined);
    if (!tenantId) throw badRequest('operators redeem a code on behalf of a tenant: say which one in tenantId', 'tenantId');
    return this.dataSource.transaction(async (m) => {
      const tenant = await this.policy.tenant(actor, tenantId, 'tenant_admin', m);
      const payload = await this.verify(body.code);
      await this.limits.lockTenant(m, tenant.id);
      const row = await m.getRepository(RegistrationCodeEntity).findOne({ where: { id: payload.id }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw conflict('this installation has no record of the registration code; ask the operator who issued it', 'code');
      if (row.revokedAt) throw conflict(`the registration code was revoked at ${row.revokedAt.toISOString()}; ask the operator for a new one`, 'code');
      if (row.tenantId === tenant.id) return view(row);
      if (row.tenantId) throw conflict('the registration code is already redeemed by another tenant', 'code');
      if (row.expiresAt && row.expiresAt <= new Date()) {
        throw conflict(`the registration code expired at ${row.expiresAt.toISOString()}; ask the operator for a new one`, 'code');
      }

      const [owner] = await m.query(`SELECT tenant_id FROM domain WHERE name = $1`, [row.domain]);
      if (owner && owner.tenant_id !== tenant.id) throw conflict(`the code's domain ${row.domain} belongs to another tenant`, 'code');
      const [usage] = await m.query(
        `SELECT (SELECT count(*) FROM domain WHERE tenant_id = $1)::int AS domains, (SELECT count(*) FROM mailbox WHERE tenant_id = $1)::int AS mailboxes`,
        [tenant.id],
      );
      const needed = usage.domains + (owner ? 0 : 1);
      if (needed > row.maxDomains) {
        const extra = owner ? '' : ` plus the code's domain ${row.domain} still to be created`;
        throw limitReached(`the tenant has ${usage.domains} domains${extra}, more than the code's maximum of ${row.maxDomains} domains`, 'code');
      }
      if (!owner && tenant.maxDomains !== null && usage.domains + 1 > tenant.maxDomains) {
        throw limitReached(
          `the tenant's plan allows ${tenant.maxDomains} domains and it has ${usage.domains}, so it could not create the code's domain ${row.domain}`,
          'code',
        );
      }
      if (usage.mailboxes > row.maxMailboxes) {
        throw limitReached(`the tenant has ${usage.mailboxes} mailboxes, more than the code's maximum of ${row.maxMailboxes} mailboxes`, 'code');
      }

      // One active code per tenant (unique index): the old one goes first.
      const previous = await m.getRepository(RegistrationCodeEntity).find({ where: { tenantId: tenant.id, revokedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
      for (const old of previous) await this.revokeRow(m, actor, ip, old, 'registration_code.replace');

      const before = view(row);
      row.tenantId = tenant.id;
      row.redeemedAt = new Date();
      await m.getRepository(RegistrationCodeEntity).save(row);
      await this.audit.record(m, actor, ip, {
        action: 'registration_code.redeem', objectType: 'registration_code', objectId: row.id, tenantId: tenant.id, before, after: view(row),
      });
      return view(row);
    });
  }

  /** Signature, format, version and expiry against the installation's own public key; 400 or 409 naming `code`. */
  private async verify(code: string): Promise<RegistrationPayload> {
    const { publicKey } = await this.systemKeys.get(REGISTRATION_CODE_KEY);
    try {
      return verifyRegistrationCode(code, publicKey);
    } catch (e) {
      if (!(e instanceof InvalidRegistrationCodeError)) throw e;
      switch (e.reason) {
        case 'bad_signature':
          throw badRequest(
            "the registration code's signature does not match: it was changed after it was issued, or issued by another installation; paste it exactly as issued",
            'code',
          );
        case 'expired':
          throw conflict(`the registration code has expired (${e.message}); ask the operator for a new one`, 'code');
        case 'wrong_version':
          throw badRequest(`the registration code cannot be read: ${e.message}`, 'code');
        default:
          throw badRequest(`${e.message}; paste the whole code exactly as issued`, 'code');
      }
    }
  }

  private async revokeRow(m: EntityManager, actor: Actor, ip: string, row: RegistrationCodeEntity, action: string): Promise<void> {
    const before = view(row);
    row.revokedAt = new Date();
    await m.getRepository(RegistrationCodeEntity).save(row);
    await this.audit.record(m, actor, ip, { action, objectType: 'registration_code', objectId: row.id, tenantId: row.tenantId, before, after: view(row) });
  }

  /** Codes are seen through the tenant they are bound to; unbound codes only by operators. */
  private async load(actor: Actor, id: string, minimum: 'operator' | 'tenant_admin', m: EntityManager = this.dataSource.manager) {
    const row = isUuid(id) ? await m.getRepository(RegistrationCodeEntity).findOneBy({ id }) : null;
    if (!row) throw notFound('registration code');
    this.policy.check(actor, { tenantId: row.tenantId }, minimum, 'registration code');
    return row;
  }
}

export function statusOf(r: RegistrationCodeEntity, now = new Date()): RegistrationCodeStatus {
  if (r.revokedAt) return 'revoked';
  if (r.tenantId) return 'redeemed';
  if (r.expiresAt && r.expiresAt <= now) return 'expired';
  return 'issued';
}

function view(r: RegistrationCodeEntity) {
  return {
    id: r.id,
    domain: r.domain,
    maxDomains: r.maxDomains,
    maxMailboxes: r.maxMailboxes,
    status: statusOf(r),
    issuedBy: r.issuedBy,
    issuedAt: r.issuedAt.toISOString(),
    expiresAt: r.expiresAt?.toISOString() ?? null,
    tenantId: r.tenantId,
    redeemedAt: r.redeemedAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
  };
}
