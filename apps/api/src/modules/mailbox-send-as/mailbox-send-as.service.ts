/**
 * "Send as" grants (issue 11 item 5): a domain admin lets a mailbox's user send as another address of a domain
 * hosted here — a shared mailbox, a group, a colleague. The submission listeners read the table (sender-login and
 * from-header checks); without a grant a user may only send as the mailbox and its aliases. Granting needs the
 * domain_admin role over the mailbox and over the address's domain, so no admin can hand out another domain's
 * addresses; outside addresses cannot be granted (we cannot vouch for them, and their DMARC would fail anyway).
 */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MAX_SEND_AS_IDENTITIES } from '@dizi/contracts/mailbox-send-as.contract';
import { DomainEntity } from '@dizi/db/entities/domain.entity';
import { MailboxSendAsEntity } from '@dizi/db/entities/mailbox-send-as.entity';
import { InvalidAddressError, parseAddress } from '@dizi/domain/address';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, conflict, limitReached, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { addressKey, PolicyService } from '../auth/policy.service';
import { GrantSendAsDto } from './dto';

@Injectable()
export class MailboxSendAsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
  ) {}

  async list(actor: Actor, ref: string) {
    // Its owner and the admins who may manage its role (a domain admin does not read a tenant admin's identities).
    const mailbox = await this.policy.manageableMailbox(actor, ref, true);
    const rows = await this.dataSource.getRepository(MailboxSendAsEntity).find({ where: { mailboxId: mailbox.id }, order: { address: 'ASC' } });
    return { mailbox: mailbox.address, identities: rows.map(view) };
  }

  async grant(actor: Actor, ip: string, ref: string, body: GrantSendAsDto) {
    let address: string;
    try {
      ({ address } = parseAddress(body.address));
    } catch (e) {
      if (e instanceof InvalidAddressError) throw badRequest(e.message, 'address');
      throw e;
    }
    if (address.slice(0, address.lastIndexOf('@')).includes('*')) throw badRequest(`"${body.address}" is a wildcard; grant plain addresses`, 'address');
    return this.dataSource.transaction(async (m) => {
      const mailbox = await this.policy.manageableMailbox(actor, ref, false, m);
      if (address === mailbox.address) throw badRequest(`${address} is the mailbox's own address; it needs no grant`, 'address');
      const domainName = address.slice(address.lastIndexOf('@') + 1);
      const hosted = await m.getRepository(DomainEntity).findOneBy({ name: domainName });
      if (!hosted) throw badRequest(`${domainName} is not a domain hosted here; only addresses of hosted domains can be granted`, 'address');
      // 404/403 as for any object of that domain: an admin grants only addresses of domains they administer.
      const domain = await this.policy.domain(actor, hosted.id, 'domain_admin', m);
      if (domain.tenantId !== mailbox.tenantId) throw badRequest(`${address} belongs to another tenant`, 'address');
      const repo = m.getRepository(MailboxSendAsEntity);
      // One grant list per mailbox at a time, so the count below holds.
      await m.query(`SELECT id FROM mailbox WHERE id = $1 FOR UPDATE`, [mailbox.id]);
      if (await repo.existsBy({ mailboxId: mailbox.id, address })) throw conflict(`${mailbox.address} may already send as ${address}`, 'address');
      if ((await repo.countBy({ mailboxId: mailbox.id })) >= MAX_SEND_AS_IDENTITIES) {
        throw limitReached(`a mailbox may send as at most ${MAX_SEND_AS_IDENTITIES} other addresses`, 'address');
      }
      const grant = await repo.save(repo.create({ tenantId: mailbox.tenantId, mailboxId: mailbox.id, address, grantedBy: actor.name }));
      const result = view(grant);
      await this.audit.record(m, actor, ip, {
        action: 'mailbox.send_as.grant', objectType: 'mailbox', objectId: mailbox.id, tenantId: mailbox.tenantId, after: { mailbox: mailbox.address, ...result },
      });
      return result;
    });
  }

  async revoke(actor: Actor, ip: string, ref: string, rawAddress: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      // Its owner may see its grants, so 404 for one that does not exist comes before the role check.
      const mailbox = await this.policy.mailbox(actor, ref, 'user', m);
      const repo = m.getRepository(MailboxSendAsEntity);
      const grant = await repo.findOneBy({ mailboxId: mailbox.id, address: addressKey(rawAddress) });
      if (!grant) throw notFound('send-as identity');
      this.policy.assertMayManageMailbox(actor, mailbox, false);
      await repo.delete(grant.id);
      await this.audit.record(m, actor, ip, {
        action: 'mailbox.send_as.revoke', objectType: 'mailbox', objectId: mailbox.id, tenantId: mailbox.tenantId, before: { mailbox: mailbox.address, ...view(grant) },
      });
    });
  }
}

function view(g: MailboxSendAsEntity) {
  return { address: g.address, grantedBy: g.grantedBy, createdAt: new Date(g.createdAt).toISOString() };
}
