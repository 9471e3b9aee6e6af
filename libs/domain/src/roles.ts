/** Who is acting. Ordered from most to least powerful: operator > tenant admin > domain admin > user. */
export const ROLES = ['operator', 'tenant_admin', 'domain_admin', 'user'] as const;
export type Role = (typeof ROLES)[number];

/** Roles a mailbox can hold (operators are not mailboxes). */
export const MAILBOX_ROLES = ['user', 'domain_admin', 'tenant_admin'] as const;
export type MailboxRole = (typeof MAILBOX_ROLES)[number];

const RANK: Record<Role, number> = { operator: 3, tenant_admin: 2, domain_admin: 1, user: 0 };

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}
