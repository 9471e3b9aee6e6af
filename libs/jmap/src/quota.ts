/**
 * Quota (RFC 9425): the mailbox's storage quota as one Quota object (octets, account scope, for Email), its usage
 * the same figure IMAP GETQUOTAROOT and the delivery quota check read. Its state is the usage and limit themselves.
 */
import type { QuotaUsage } from '@dizi/mail-store/ports/message-store';

export const QUOTA_ID = 'octets';
export const QUOTA_PROPERTIES: readonly string[] = ['id', 'resourceType', 'used', 'hardLimit', 'scope', 'name', 'types', 'warnLimit', 'softLimit', 'description'];

export function toQuota(usage: QuotaUsage, accountName: string): Record<string, unknown> {
  return {
    id: QUOTA_ID,
    resourceType: 'octets',
    used: usage.usedBytes,
    hardLimit: usage.quotaBytes,
    scope: 'account',
    name: `${accountName} storage`,
    types: ['Email'],
    warnLimit: null,
    softLimit: null,
    description: null,
  };
}

export function quotaState(usage: QuotaUsage): string {
  return `q${usage.usedBytes}.${usage.quotaBytes}`;
}

export function isQuotaState(state: string): boolean {
  return /^q\d{1,20}\.\d{1,20}$/.test(state);
}
