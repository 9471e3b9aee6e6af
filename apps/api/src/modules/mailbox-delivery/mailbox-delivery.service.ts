/**
 * A mailbox's forwarding and auto-reply (table mailbox_delivery), read and written by the mailbox's
 * owner and its admins; the delivery workers apply them.
 */
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainEntity } from '@dizi/db/entities/domain.entity';
import { MailboxEntity } from '@dizi/db/entities/mailbox.entity';
import { InvalidAddressError, parseAddress } from '@dizi/domain/address';
import type { Actor } from '@dizi/domain/policy';
import { badRequest } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { PolicyService } from '../auth/policy.service';
import { MailboxDeliverySettingsDto } from './dto';

interface DeliveryRow {
  forward_to: string[];
  forward_keep_copy: boolean;
  auto_reply_enabled: boolean;
  auto_reply_subject: string;
  auto_reply_body: string;
  auto_reply_starts_at: Date | null;
  auto_reply_ends_at: Date | null;
  updated_at: Date | null;
}

const DEFAULT_ROW: DeliveryRow = {
  forward_to: [], forward_keep_copy: true, auto_reply_enabled: false, auto_reply_subject: '', auto_reply_body: '',
  auto_reply_starts_at: null, auto_reply_ends_at: null, updated_at: null,
};

@Injectable()
export class MailboxDeliveryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
  ) {}

  async get(actor: Actor, ref: string) {
    const mailbox = await this.policy.manageableMailbox(actor, ref, true);
    return view(mailbox, await this.row(this.dataSource.manager, mailbox.id));
  }

  /** `ip`: null when the change does not come from an HTTP client's own request (JMAP VacationResponse/set names none). */
  async put(actor: Actor, ip: string | null, ref: string, body: MailboxDeliverySettingsDto) {
    return this.dataSource.transaction(async (m) => {
      // Its owner, or an admin who may manage its role: forwarding is a way to read someone's mail.
      const mailbox = await this.policy.manageableMailbox(actor, ref, true, m);
      const forwardTo = await this.forwardTargets(m, mailbox, body.forwardTo);
      if (!forwardTo.length && !body.keepCopy) {
        throw badRequest('keepCopy: without forwarding addresses the mailbox must keep its mail; add a forwarding address or set keepCopy to true', 'keepCopy');
      }
      const before = await this.row(m, mailbox.id, true);
      const a = body.autoReply;
      const [saved]: DeliveryRow[] = await m.query(
        `INSERT INTO mailbox_delivery (mailbox_id, forward_to, forward_keep_copy, auto_reply_enabled, auto_reply_subject, auto_reply_body,
                                       auto_reply_starts_at, auto_reply_ends_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
         ON CONFLICT (mailbox_id) DO UPDATE SET forward_to = EXCLUDED.forward_to, forward_keep_copy = EXCLUDED.forward_keep_copy,
           auto_reply_enabled = EXCLUDED.auto_reply_enabled, auto_reply_subject = EXCLUDED.auto_reply_subject,
           auto_reply_body = EXCLUDED.auto_reply_body, auto_reply_starts_at = EXCLUDED.auto_reply_starts_at,
           auto_reply_ends_at = EXCLUDED.auto_reply_ends_at, updated_at = now()
         RETURNING *`,
        [mailbox.id, forwardTo, body.keepCopy, a.enabled, a.subject, a.body, a.startsAt, a.endsAt],
      );
      // A new auto-reply (turned on, or new text) is news to senders who got the previous one.
      const replyChanged = a.enabled && (!before.auto_reply_enabled || before.auto_reply_subject !== a.subject || before.auto_reply_body !== a.body);
      if (replyChanged) await m.query(`DELETE FROM auto_reply_sent WHERE mailbox_id = $1`, [mailbox.id]);
      const result = view(mailbox, saved);
      await this.audit.record(m, actor, ip, {
        action: 'mailbox.delivery.update', objectType: 'mailbox', objectId: mailbox.id, tenantId: mailbox.tenantId,
        before: view(mailbox, before), after: result,
      });
      return result;
    });
  }

  private async row(m: EntityManager, mailboxId: string, forUpdate = false): Promise<DeliveryRow> {
    const [row] = await m.query(`SELECT * FROM mailbox_delivery WHERE mailbox_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [mailboxId]);
    return row ?? DEFAULT_ROW;
  }

  /**
   * Normalised, de-duplicated targets. Addresses outside the installation need a mailbox that may send
   * outside, in a domain that is not local-only: forwarding must not become a way around either.
   */
  private async forwardTargets(m: EntityManager, mailbox: MailboxEntity, input: string[]): Promise<string[]> {
    const targets: string[] = [];
    for (const [i, raw] of input.entries()) {
      let address: string;
      try {
        address = parseAddress(raw).address;
      } catch (e) {
        if (e instanceof InvalidAddressError) throw badRequest(`forwardTo.${i}: ${e.message}`, `forwardTo.${i}`);
        throw e;
      }
      if (address === mailbox.address) throw badRequest(`forwardTo.${i}: a mailbox cannot forward to itself`, `forwardTo.${i}`);
      if (!targets.includes(address)) targets.push(address);
    }
    if (!targets.length) return targets;
    const domains = [...new Set(targets.map((t) => t.slice(t.lastIndexOf('@') + 1)))];
    const local: { name: string }[] = await m.query(`SELECT name FROM domain WHERE name = ANY($1)`, [domains]);
    const remote = targets.filter((t) => !local.some((d) => t.endsWith(`@${d.name}`)));
    if (!remote.length) return targets;
    const field = `forwardTo.${input.findIndex((raw) => parseAddress(raw).address === remote[0])}`;
    if (!mailbox.maySendOutside) {
      throw badRequest(`${field}: ${remote[0]} is outside this installation and this mailbox may not send outside (maySendOutside is off)`, field);
    }
    const domain = await m.getRepository(DomainEntity).findOneByOrFail({ id: mailbox.domainId });
    if (domain.localOnly) throw badRequest(`${field}: ${remote[0]} is outside this installation and the domain ${domain.name} is local-only`, field);
    return targets;
  }
}

function view(mailbox: MailboxEntity, r: DeliveryRow) {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    mailbox: mailbox.address,
    forwardTo: r.forward_to,
    keepCopy: r.forward_keep_copy,
    autoReply: {
      enabled: r.auto_reply_enabled,
      subject: r.auto_reply_subject,
      body: r.auto_reply_body,
      startsAt: iso(r.auto_reply_starts_at),
      endsAt: iso(r.auto_reply_ends_at),
    },
    updatedAt: iso(r.updated_at),
  };
}
