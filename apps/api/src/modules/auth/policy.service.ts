/**
 * The one policy service that decides every access (ARCHITECTURE.md, "Identity and access").
 * Services load objects through it: an object the actor may not see answers 404 exactly like
 * a missing one, so ids, addresses and names reveal nothing across tenants.
 */
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainEntity } from '@dizi/db/entities/domain.entity';
import { MailboxEntity } from '@dizi/db/entities/mailbox.entity';
import { TenantEntity } from '@dizi/db/entities/tenant.entity';
import { Actor, canAccess, canManageMailbox, canSee, Scope } from '@dizi/domain/policy';
import { Role } from '@dizi/domain/roles';
import { addressKey, domainKey } from '@dizi/domain/lookup-key';
import { forbidden, notFound } from '../../common/api-error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string | undefined | null): s is string => !!s && UUID.test(s);

/** What part of the tenancy tree an actor's lists are limited to. */
export interface ListScope {
  tenantId?: string;
  domainId?: string;
  mailboxId?: string;
}

@Injectable()
export class PolicyService {
  constructor(private readonly dataSource: DataSource) {}

  /** Throws 404 when the actor cannot see the scope at all, 403 when it can see but not act. */
  check(actor: Actor, scope: Scope, minimum: Role, what: string): void {
    if (!canSee(actor, scope)) throw notFound(what);
    if (!canAccess(actor, scope, minimum)) throw forbidden(`your role (${actor.role}) cannot do this; it needs ${minimum}`);
  }

  /**
   * A tenant named in a query or body: another tenant's id answers 404 before any role check,
   * so that a refusal never depends on whether the id exists.
   */
  assertTenantReference(actor: Actor, tenantId: string | null | undefined): void {
    if (tenantId && actor.role !== 'operator' && tenantId !== actor.tenantId) throw notFound('tenant');
  }

  listScope(actor: Actor): ListScope {
    switch (actor.role) {
      case 'operator':
        return {};
      case 'tenant_admin':
        return { tenantId: actor.tenantId };
      case 'domain_admin':
        return { tenantId: actor.tenantId, domainId: actor.domainId };
      default:
        return { tenantId: actor.tenantId, domainId: actor.domainId, mailboxId: actor.mailboxId };
    }
  }

  async tenant(actor: Actor, id: string, minimum: Role, manager: EntityManager = this.dataSource.manager): Promise<TenantEntity> {
    const tenant = isUuid(id) ? await manager.getRepository(TenantEntity).findOneBy({ id }) : null;
    if (!tenant) throw notFound('tenant');
    this.check(actor, { tenantId: tenant.id }, minimum, 'tenant');
    return tenant;
  }

  /** A domain by id or by name (either form of an IDN). */
  async domain(actor: Actor, idOrName: string, minimum: Role, manager: EntityManager = this.dataSource.manager): Promise<DomainEntity> {
    const repo = manager.getRepository(DomainEntity);
    const domain = isUuid(idOrName) ? await repo.findOneBy({ id: idOrName }) : await repo.findOneBy({ name: domainKey(idOrName) });
    if (!domain) throw notFound('domain');
    this.check(actor, { tenantId: domain.tenantId, domainId: domain.id }, minimum, 'domain');
    return domain;
  }

  /** A mailbox by id or by address. */
  async mailbox(actor: Actor, idOrAddress: string, minimum: Role, manager: EntityManager = this.dataSource.manager): Promise<MailboxEntity> {
    const repo = manager.getRepository(MailboxEntity);
    const mailbox = isUuid(idOrAddress)
      ? await repo.findOneBy({ id: idOrAddress })
      : await repo.findOneBy({ address: addressKey(idOrAddress) });
    if (!mailbox) throw notFound('mailbox');
    this.check(actor, { tenantId: mailbox.tenantId, domainId: mailbox.domainId, mailboxId: mailbox.id }, minimum, 'mailbox');
    return mailbox;
  }

  /**
   * A mailbox the actor may manage (libs/domain policy `canManageMailbox`): every route that changes a
   * mailbox, or reads what only its owner and admins may, loads it through here. `ownerMay`: its
   * owner may do this too (delivery settings), not only its admins (suspend, reset).
   */
  async manageableMailbox(actor: Actor, idOrAddress: string, ownerMay: boolean, manager: EntityManager = this.dataSource.manager): Promise<MailboxEntity> {
    const mailbox = await this.mailbox(actor, idOrAddress, 'user', manager);
    this.assertMayManageMailbox(actor, mailbox, ownerMay);
    return mailbox;
  }

  /** The same rule for a mailbox already loaded (bulk operations). */
  assertMayManageMailbox(actor: Actor, mailbox: MailboxEntity, ownerMay: boolean): void {
    const scope = { tenantId: mailbox.tenantId, domainId: mailbox.domainId, mailboxId: mailbox.id, role: mailbox.role };
    if (!canSee(actor, scope)) throw notFound('mailbox');
    if (canManageMailbox(actor, scope, ownerMay)) return;
    if (!canAccess(actor, scope, 'domain_admin')) throw forbidden(`your role (${actor.role}) cannot do this; it needs domain_admin`);
    throw forbidden(`your role (${actor.role}) cannot manage a ${mailbox.role} mailbox`);
  }

  /**
   * Domain objects every mailbox of the domain may read (public address books, the directory):
   * users cannot "see" a domain scope, so same tenant and same domain as the actor is the rule for them.
   */
  readableByDomainMembers(actor: Actor, scope: Scope): boolean {
    if (canSee(actor, scope)) return true;
    return actor.role === 'user' && !!scope.tenantId && scope.tenantId === actor.tenantId && !!scope.domainId && scope.domainId === actor.domainId;
  }

  /** Objects owned by a domain (aliases, groups, books): check through the owning domain. */
  checkDomainObject(actor: Actor, object: { tenantId: string | null; domainId: string | null }, minimum: Role, what: string): void {
    this.check(actor, { tenantId: object.tenantId, domainId: object.domainId }, minimum, what);
  }
}

export { addressKey, domainKey } from '@dizi/domain/lookup-key';
