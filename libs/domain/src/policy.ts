/**
 * The one place that decides whether an actor may touch an object. Pure: callers load the
 * object's scope (tenant, domain, mailbox) and ask; nothing here knows about HTTP or SQL.
 */
import { Role, roleAtLeast } from './roles';

export interface Actor {
  role: Role;
  /** Tenant the actor belongs to; absent for operators. */
  tenantId?: string;
  /** Domain of the actor's own mailbox (domain admins administer it). */
  domainId?: string;
  /** The actor's own mailbox, when the actor is a mailbox user. */
  mailboxId?: string;
  /** Display name for the audit log. */
  name: string;
  kind: 'operator-account' | 'mailbox' | 'oidc' | 'api-key';
  /** Subject id for the audit log (account, mailbox, token subject or key id). */
  id: string;
}

/** Where an object lives. A tenant-level object has no domain; a domain-level object no mailbox. */
export interface Scope {
  tenantId: string | null;
  domainId?: string | null;
  mailboxId?: string | null;
}

export type Access = 'read' | 'write';

/**
 * May `actor` reach an object in `scope`, and with which minimum role?
 * `minimum` is the least role the action needs on objects it can see (e.g. editing a domain's
 * settings needs domain_admin even though a user of that domain can read some of it).
 */
export function canAccess(actor: Actor, scope: Scope, minimum: Role = 'user'): boolean {
  if (!roleAtLeast(actor.role, minimum)) return false;
  if (actor.role === 'operator') return true;
  if (!scope.tenantId || scope.tenantId !== actor.tenantId) return false;
  if (actor.role === 'tenant_admin') return true;
  if (!scope.domainId || scope.domainId !== actor.domainId) return false;
  if (actor.role === 'domain_admin') return true;
  return !!scope.mailboxId && scope.mailboxId === actor.mailboxId;
}

/**
 * Can the actor see the object at all? Seeing decides 404 (not in your world) against 403 (in
 * your world, but your role may not do this). Everyone sees their own tenant and own domain;
 * a mailbox is seen only by those who may read it.
 */
export function canSee(actor: Actor, scope: Scope): boolean {
  if (actor.role === 'operator') return true;
  if (!scope.tenantId || scope.tenantId !== actor.tenantId) return false;
  if (scope.mailboxId) return canAccess(actor, scope, 'user');
  if (scope.domainId) return actor.role === 'tenant_admin' || scope.domainId === actor.domainId;
  return true;
}

/** A mailbox role may only be granted by someone at or above it. */
export function canGrantRole(actor: Actor, role: Role): boolean {
  return roleAtLeast(actor.role, role);
}

/**
 * May the actor manage this mailbox: change it, end its sessions, or read what only its owner and
 * admins may (forwarding, auto-reply, password hash)? Its owner may, for what owners may do
 * (`ownerMay`); anyone else needs to administer its domain and hold at least the mailbox's own
 * role, or a domain admin could forward a tenant admin's mail to themselves and read it.
 */
export function canManageMailbox(actor: Actor, mailbox: Scope & { role: Role }, ownerMay: boolean): boolean {
  if (ownerMay && !!mailbox.mailboxId && actor.mailboxId === mailbox.mailboxId) return true;
  return canAccess(actor, mailbox, 'domain_admin') && canGrantRole(actor, mailbox.role);
}
