import { describe, expect, it } from 'vitest';
import { Actor, canAccess, canGrantRole, canSee, Scope } from './policy';
import { Role, roleAtLeast, ROLES } from './roles';

const T1 = 'tenant-1';
const T2 = 'tenant-2';
const actors: Record<string, Actor> = {
  operator: { role: 'operator', kind: 'operator-account', id: 'op', name: 'op' },
  tenantAdmin: { role: 'tenant_admin', tenantId: T1, kind: 'mailbox', id: 'ta', name: 'ta' },
  domainAdmin: { role: 'domain_admin', tenantId: T1, domainId: 'd1', kind: 'mailbox', id: 'da', name: 'da' },
  user: { role: 'user', tenantId: T1, domainId: 'd1', mailboxId: 'm1', kind: 'mailbox', id: 'm1', name: 'u' },
};
const scopes: Record<string, Scope> = {
  ownTenant: { tenantId: T1 },
  ownDomain: { tenantId: T1, domainId: 'd1' },
  otherDomain: { tenantId: T1, domainId: 'd2' },
  ownMailbox: { tenantId: T1, domainId: 'd1', mailboxId: 'm1' },
  neighbourMailbox: { tenantId: T1, domainId: 'd1', mailboxId: 'm2' },
  otherTenant: { tenantId: T2 },
  otherTenantDomain: { tenantId: T2, domainId: 'd1' },
  otherTenantMailbox: { tenantId: T2, domainId: 'd1', mailboxId: 'm1' },
  global: { tenantId: null },
};

// What each actor may act on (at its own role): operator > tenant admin (own tenant) > domain admin (own domain) > user (self).
const accessible: Record<string, string[]> = {
  operator: Object.keys(scopes),
  tenantAdmin: ['ownTenant', 'ownDomain', 'otherDomain', 'ownMailbox', 'neighbourMailbox'],
  domainAdmin: ['ownDomain', 'ownMailbox', 'neighbourMailbox'],
  user: ['ownMailbox'],
};
// What each actor may see (403 rather than 404 where its role is too low): its own tenant and domain besides the above.
const visible: Record<string, string[]> = {
  operator: Object.keys(scopes),
  tenantAdmin: accessible.tenantAdmin,
  domainAdmin: ['ownTenant', ...accessible.domainAdmin],
  user: ['ownTenant', 'ownDomain', ...accessible.user],
};

describe('policy', () => {
  for (const [actorName, actor] of Object.entries(actors)) {
    for (const [scopeName, scope] of Object.entries(scopes)) {
      const sees = visible[actorName].includes(scopeName);
      const acts = accessible[actorName].includes(scopeName);
      it(`${actorName} ${sees ? 'sees' : 'does not see'} ${scopeName} and ${acts ? 'may' : 'may not'} act on it`, () => {
        expect(canSee(actor, scope)).toBe(sees);
        expect(canAccess(actor, scope, 'user')).toBe(acts);
      });
    }
  }

  it('needs the minimum role as well as the scope', () => {
    for (const [name, actor] of Object.entries(actors)) {
      for (const minimum of ROLES) {
        const scope = scopes.ownMailbox;
        expect(canAccess(actor, scope, minimum), `${name} at ${minimum}`).toBe(roleAtLeast(actor.role, minimum));
      }
    }
    expect(canAccess(actors.tenantAdmin, scopes.otherTenant, 'user')).toBe(false);
  });

  it('never matches an actor without a tenant to an object without one, except operators', () => {
    const stray: Actor = { role: 'tenant_admin', kind: 'oidc', id: 'x', name: 'x' };
    expect(canSee(stray, { tenantId: null })).toBe(false);
    expect(canAccess(stray, { tenantId: null }, 'user')).toBe(false);
    expect(canAccess({ ...actors.domainAdmin, domainId: undefined }, { tenantId: T1, domainId: null }, 'user')).toBe(false);
    expect(canAccess({ ...actors.user, mailboxId: undefined }, { tenantId: T1, domainId: 'd1', mailboxId: null }, 'user')).toBe(false);
    expect(canSee({ ...actors.domainAdmin, domainId: undefined }, { tenantId: T1, domainId: 'd1' })).toBe(false);
  });

  it('orders roles and grants only roles at or below the granter', () => {
    const order: Role[] = ['user', 'domain_admin', 'tenant_admin', 'operator'];
    order.forEach((r, i) => order.forEach((m, j) => expect(roleAtLeast(r, m)).toBe(i >= j)));
    expect(canGrantRole(actors.domainAdmin, 'domain_admin')).toBe(true);
    expect(canGrantRole(actors.domainAdmin, 'tenant_admin')).toBe(false);
    expect(canGrantRole(actors.tenantAdmin, 'tenant_admin')).toBe(true);
    expect(canGrantRole(actors.user, 'domain_admin')).toBe(false);
  });
});
