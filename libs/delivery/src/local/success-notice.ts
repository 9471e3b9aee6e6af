/**
 * Success notices of local delivery (RFC 3461 NOTIFY=SUCCESS): "delivered" for a recipient whose mailbox got its
 * copy, "expanded" for one that only passed the message on (forwarding without a copy, an alias or group of
 * remote addresses). Nobody asked, nobody is told: without NOTIFY containing SUCCESS, or for the null sender.
 */
import type { DsnRecipient } from '@dizi/smtp/dsn';

export interface DeliveredRecipient {
  address: string;
  originalAddress: string | null;
  dsnNotify: string | null;
  /** A local mailbox stored a copy for this recipient. */
  storedCopy: boolean;
}

export function wantsSuccessNotice(mailFrom: string, dsnNotify: string | null): boolean {
  return mailFrom !== '' && (dsnNotify ?? '').toUpperCase().split(/[\s,]+/).includes('SUCCESS');
}

export function successNotices(mailFrom: string, delivered: DeliveredRecipient[], at: Date = new Date()): DsnRecipient[] {
  return delivered.filter((d) => wantsSuccessNotice(mailFrom, d.dsnNotify)).map((d) => ({
    finalRecipient: d.address,
    originalRecipient: d.originalAddress,
    action: d.storedCopy ? 'delivered' : 'expanded',
    status: '2.0.0',
    lastAttemptDate: at,
  }));
}
