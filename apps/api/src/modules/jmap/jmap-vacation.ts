/**
 * JMAP VacationResponse over the mailbox's auto-reply: read and written through the same service as
 * GET/PUT /api/mailboxes/{mailbox}/delivery (its checks, its audit record, forwarding left as it is).
 */
import { mailboxDeliverySettings } from '@dizi/contracts/mailbox-delivery.contract';
import type { Actor } from '@dizi/domain/policy';
import { VacationRefused, type JmapVacation, type VacationSettings } from '@dizi/jmap/vacation';
import type { MailboxDeliveryService } from '../mailbox-delivery/mailbox-delivery.service';

/** The API's auto-reply fields as JMAP names them, for the property a refusal points at. */
const PROPERTY: Record<string, string> = { enabled: 'isEnabled', subject: 'subject', body: 'textBody', startsAt: 'fromDate', endsAt: 'toDate' };

type AutoReplyView = { enabled: boolean; subject: string; body: string; startsAt: string | null; endsAt: string | null };

export class DeliveryVacation implements JmapVacation {
  constructor(
    private readonly delivery: MailboxDeliveryService,
    /** The mailbox acting on itself (null: no longer active). */
    private readonly actorOf: (mailboxId: string) => Promise<Actor | null>,
  ) {}

  async get(mailboxId: string): Promise<VacationSettings> {
    const view = await this.delivery.get(await this.actor(mailboxId), mailboxId);
    return settingsOf(view.autoReply);
  }

  async update(mailboxId: string, s: VacationSettings): Promise<VacationSettings> {
    const actor = await this.actor(mailboxId);
    const current = await this.delivery.get(actor, mailboxId);
    const parsed = mailboxDeliverySettings.safeParse({
      forwardTo: current.forwardTo,
      keepCopy: current.keepCopy,
      autoReply: {
        enabled: s.isEnabled, subject: s.subject, body: s.textBody,
        startsAt: s.fromDate?.toISOString() ?? null, endsAt: s.toDate?.toISOString() ?? null,
      },
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue.path[issue.path.length - 1] ?? 'body');
      throw new VacationRefused(issue.message, PROPERTY[field] ?? field);
    }
    const saved = await this.delivery.put(actor, null, mailboxId, parsed.data);
    return settingsOf(saved.autoReply);
  }

  private async actor(mailboxId: string): Promise<Actor> {
    const actor = await this.actorOf(mailboxId);
    if (!actor) throw new Error(`mailbox ${mailboxId} is not active`);
    return actor;
  }
}

function settingsOf(a: AutoReplyView): VacationSettings {
  return {
    isEnabled: a.enabled,
    fromDate: a.startsAt ? new Date(a.startsAt) : null,
    toDate: a.endsAt ? new Date(a.endsAt) : null,
    subject: a.subject,
    textBody: a.body,
  };
}
