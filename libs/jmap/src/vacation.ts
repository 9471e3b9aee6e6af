/**
 * VacationResponse (RFC 8621 §8): the mailbox's auto-reply, the one the delivery workers send (RFC 3834), kept by the
 * API with the mailbox's delivery settings. One object per account, id `singleton`; plain text only (the auto-reply
 * is sent as text), so htmlBody is always null.
 */
import { createHash } from 'node:crypto';

export interface VacationSettings {
  isEnabled: boolean;
  fromDate: Date | null;
  toDate: Date | null;
  /** '' when none: the reply's subject is then "Auto: " and the message's. */
  subject: string;
  textBody: string;
}

export interface JmapVacation {
  get(mailboxId: string): Promise<VacationSettings>;
  /** Throws VacationRefused with what to fix when the settings are refused (nothing is changed then). */
  update(mailboxId: string, settings: VacationSettings): Promise<VacationSettings>;
}

export class VacationRefused extends Error {
  constructor(message: string, readonly property: string) {
    super(message);
    this.name = 'VacationRefused';
  }
}

export const VACATION_ID = 'singleton';
export const VACATION_PROPERTIES: readonly string[] = ['id', 'isEnabled', 'fromDate', 'toDate', 'subject', 'textBody', 'htmlBody'];

const utc = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null);

export function toVacationResponse(v: VacationSettings): Record<string, unknown> {
  return {
    id: VACATION_ID,
    isEnabled: v.isEnabled,
    fromDate: utc(v.fromDate),
    toDate: utc(v.toDate),
    subject: v.subject === '' ? null : v.subject,
    textBody: v.textBody === '' ? null : v.textBody,
    htmlBody: null,
  };
}

export function vacationState(v: VacationSettings): string {
  return `v${createHash('sha256').update(JSON.stringify(toVacationResponse(v))).digest('base64url').slice(0, 16)}`;
}
