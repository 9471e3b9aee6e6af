import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AliasEntity } from '@dizi/db/entities/alias.entity';
import { InvalidAddressError, normaliseLocalPart, parseAddress } from '@dizi/domain/address';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, forbidden, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { addressKey, isUuid, PolicyService } from '../auth/policy.service';
import { escapeLike } from '@dizi/db/escape-like';
import { assertAddressFree } from '../../common/address-ownership';
import { AliasListQueryDto, CreateAliasDto, UpdateAliasDto } from './dto';

/** Local part of a domain's catch-all alias. */
export const CATCH_ALL = '*';

@Injectable()
export class AliasesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
  ) {}

  async list(actor: Actor, query: AliasListQueryDto) {
    const scope = this.policy.listScope(actor);
    const qb = this.dataSource.getRepository(AliasEntity).createQueryBuilder('a');
    if (scope.tenantId) qb.andWhere('a.tenant_id = :tenantId', { tenantId: scope.tenantId });
    if (scope.domainId) qb.andWhere('a.domain_id = :domainId', { domainId: scope.domainId });
    if (query.domain) {
      const domain = await this.policy.domain(actor, query.domain, 'domain_admin');
      qb.andWhere('a.domain_id = :qDomain', { qDomain: domain.id });
    }
    // After the domain filter: a domain the actor cannot see answers 404, whatever the role.
    if (actor.role === 'user') throw forbidden('users do not manage aliases');
    if (query.q) {
      qb.andWhere(`(a.address ILIKE :q OR array_to_string(a.destinations, ' ') ILIKE :q)`, { q: `%${escapeLike(query.q.toLowerCase())}%` });
    }
    const [rows, total] = await qb.orderBy('a.address').offset(query.offset).limit(query.limit).getManyAndCount();
    return { items: rows.map(view), total, offset: query.offset, limit: query.limit };
  }

  async get(actor: Actor, idOrAddress: string) {
    return view(await this.load(actor, idOrAddress, this.dataSource.manager));
  }

  async create(actor: Actor, ip: string, body: CreateAliasDto) {
    const field = body.address !== undefined ? 'address' : 'localPart';
    const [localInput, domainRef] = body.address !== undefined ? splitAddress(body.address) : [body.localPart!, body.domain!];
    const localPart = aliasLocalPart(localInput, field);
    return this.dataSource.transaction(async (m) => {
      const domain = await this.policy.domain(actor, domainRef, 'domain_admin', m);
      const address = `${localPart}@${domain.name}`;
      const destinations = normaliseDestinations(body.destinations, address);
      await assertAddressFree(m, address, field);
      const repo = m.getRepository(AliasEntity);
      const alias = await repo.save(
        repo.create({ tenantId: domain.tenantId, domainId: domain.id, localPart, address, destinations, enabled: body.enabled }),
      );
      await this.audit.record(m, actor, ip, { action: 'alias.create', objectType: 'alias', objectId: alias.id, tenantId: alias.tenantId, after: alias });
      return view(alias);
    });
  }

  async update(actor: Actor, ip: string, idOrAddress: string, body: UpdateAliasDto) {
    return this.dataSource.transaction(async (m) => {
      const alias = await this.load(actor, idOrAddress, m, true);
      const before = { ...alias };
      if (body.destinations) alias.destinations = normaliseDestinations(body.destinations, alias.address);
      if (body.enabled !== undefined) alias.enabled = body.enabled;
      await m.getRepository(AliasEntity).save(alias);
      await this.audit.record(m, actor, ip, { action: 'alias.update', objectType: 'alias', objectId: alias.id, tenantId: alias.tenantId, before, after: alias });
      return view(alias);
    });
  }

  async remove(actor: Actor, ip: string, idOrAddress: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const alias = await this.load(actor, idOrAddress, m, true);
      await m.getRepository(AliasEntity).delete(alias.id);
      await this.audit.record(m, actor, ip, { action: 'alias.delete', objectType: 'alias', objectId: alias.id, tenantId: alias.tenantId, before: alias });
    });
  }

  /** By id or by address (`*@domain` for the catch-all); 404 for aliases the actor cannot see. */
  private async load(actor: Actor, idOrAddress: string, m: EntityManager, forUpdate = false): Promise<AliasEntity> {
    const where = isUuid(idOrAddress) ? { id: idOrAddress } : { address: addressKey(idOrAddress) };
    const alias = await m.getRepository(AliasEntity).findOne({ where, ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!alias) throw notFound('alias');
    this.policy.checkDomainObject(actor, alias, 'domain_admin', 'alias');
    return alias;
  }
}

function splitAddress(address: string): [string, string] {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) throw badRequest(`"${address}" is not an address like name@example.com or *@example.com`, 'address');
  return [address.slice(0, at), address.slice(at + 1)];
}

function aliasLocalPart(input: string, field: string): string {
  const local = input.trim().toLowerCase();
  if (local === CATCH_ALL) return CATCH_ALL;
  if (local.includes('*')) throw badRequest(`"${input}": * alone makes the catch-all; it cannot be part of a name`, field);
  try {
    return normaliseLocalPart(local);
  } catch (e) {
    if (e instanceof InvalidAddressError) throw badRequest(e.message, field);
    throw e;
  }
}

/** Normalised, deduplicated destinations; each must be a plain address other than the alias itself. */
function normaliseDestinations(list: string[], own: string): string[] {
  const out = new Set<string>();
  list.forEach((input, i) => {
    let address: string;
    try {
      ({ address } = parseAddress(input));
    } catch (e) {
      if (e instanceof InvalidAddressError) throw badRequest(e.message, `destinations.${i}`);
      throw e;
    }
    if (address.slice(0, address.lastIndexOf('@')).includes('*')) {
      throw badRequest(`"${input}" is a wildcard; destinations must be plain addresses`, `destinations.${i}`);
    }
    if (address === own) throw badRequest(`the alias ${own} cannot deliver to itself; remove it from the destinations`, `destinations.${i}`);
    out.add(address);
  });
  return [...out];
}

export function view(a: AliasEntity) {
  return {
    id: a.id,
    tenantId: a.tenantId,
    domainId: a.domainId,
    address: a.address,
    localPart: a.localPart,
    catchAll: a.localPart === CATCH_ALL,
    destinations: a.destinations,
    enabled: a.enabled,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}
