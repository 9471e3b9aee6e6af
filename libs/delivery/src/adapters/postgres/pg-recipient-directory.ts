/** RecipientDirectory on PostgreSQL: domains, mailboxes, aliases, catch-alls and groups, with tenant and domain status. */
import type { Pool } from 'pg';
import { GroupCommit } from '@dizi/mail-store/group-commit';
import { LookupCache } from '../../inbound/lookup-cache';
import type { ExpansionSender, RecipientDirectory, RecipientExpansion, RecipientResolution, SenderResolution } from '@dizi/smtp/inbound/ports';
import { mayPost, type PostingPolicy } from '@dizi/domain/group-posting';
import { RecipientResolver } from '../../local/recipient-resolver';
import { PgDirectoryStore } from './pg-directory-store';

// The messages a mailbox sent "today" are counted per UTC day, here and in the spool writer.
export const SEND_DAY_SQL = `(now() AT TIME ZONE 'UTC')::date`;

interface RecipientRow {
  tenant_id: string;
  domain_status: string;
  smtp_enabled: boolean;
  tenant_status: string;
  /** The suspension is billing's (unpaid): mail is refused for now, not for good. */
  tenant_unpaid: boolean;
  mailbox_id: string | null;
  mailbox_status: string | null;
  quota_bytes: string | null;
  used_bytes: string | null;
  alias_id: string | null;
  group_id: string | null;
  catch_all_id: string | null;
}

/** A hosted address that accepts mail now (no suspension or switch-off on the way). */
function takesMail(r: RecipientRow | undefined): boolean {
  if (!r || r.tenant_status !== 'active' || r.domain_status !== 'active' || !r.smtp_enabled) return false;
  return r.mailbox_id ? r.mailbox_status === 'active' : !!(r.alias_id || r.group_id || r.catch_all_id);
}

interface SenderRow {
  local: boolean;
  owned: boolean;
}

export interface PgRecipientDirectoryOptions {
  /**
   * How long an answer is reused for the same address (default 1000 ms; 0: never): a suspension, a deletion or a
   * mailbox's quota usage reaches RCPT checks at most this late (delivery always reads afresh). Refusals and foreign
   * domains are never reused, so a new mailbox or domain takes mail at once.
   */
  cacheMs?: number;
}

/**
 * Lookups of sessions running at the same time are answered together (group commit of reads): with many connections
 * each RCPT and MAIL costs a share of one round trip instead of one of its own. The same address asked again within
 * `cacheMs` (many messages to one mailbox) reuses the answer.
 */
export class PgRecipientDirectory implements RecipientDirectory {
  private readonly recipients: GroupCommit<string, RecipientRow | undefined>;
  private readonly senders: GroupCommit<{ address: string; domain: string; mailboxId: string | null }, SenderRow>;
  private readonly recipientCache: LookupCache<RecipientRow | undefined>;
  private readonly senderCache: LookupCache<SenderRow>;

  constructor(private readonly pool: Pool, options: PgRecipientDirectoryOptions = {}) {
    this.recipients = new GroupCommit({ flush: (addresses) => this.lookUpRecipients(addresses) });
    this.senders = new GroupCommit({ flush: (asks) => this.lookUpSenders(asks) });
    this.recipientCache = new LookupCache(options.cacheMs ?? 1000);
    this.senderCache = new LookupCache(options.cacheMs ?? 1000);
  }

  async resolveRecipient(address: string): Promise<RecipientResolution> {
    const at = address.lastIndexOf('@');
    const domain = at < 0 ? '' : address.slice(at + 1);
    if (!domain || at === 0) return { kind: 'unavailable', address, domain, reason: 'unknown-user' };
    // Only addresses that take mail are remembered: a refusal is permanent, so it is always decided afresh.
    const r = await this.recipientCache.get(address, () => this.recipients.submit(address), takesMail);
    if (!r) return { kind: 'remote', address, domain };
    const unavailable = (reason: Extract<RecipientResolution, { kind: 'unavailable' }>['reason']): RecipientResolution => ({ kind: 'unavailable', address, domain, reason });
    if (r.tenant_status !== 'active') return unavailable(r.tenant_unpaid ? 'tenant-unpaid' : 'tenant-suspended');
    if (r.domain_status !== 'active') return unavailable('domain-disabled');
    if (!r.smtp_enabled) return unavailable('smtp-disabled');
    const local = { kind: 'local' as const, address, domain, tenantId: r.tenant_id };
    if (r.mailbox_id) {
      if (r.mailbox_status !== 'active') return unavailable('mailbox-suspended');
      return { ...local, target: 'mailbox', mailbox: { id: r.mailbox_id, quotaBytes: Number(r.quota_bytes), usedBytes: Number(r.used_bytes) } };
    }
    if (r.alias_id) return { ...local, target: 'alias' };
    if (r.group_id) return { ...local, target: 'group' };
    if (r.catch_all_id) return { ...local, target: 'catch-all' };
    return unavailable('unknown-user');
  }

  async resolveSender(address: string, mailboxId: string | null): Promise<SenderResolution> {
    const domain = address.slice(address.lastIndexOf('@') + 1);
    const r = await this.senderCache.get(`${mailboxId ?? ''} ${address}`, () => this.senders.submit({ address, domain, mailboxId }));
    return { local: r.local, owned: r.owned };
  }

  /**
   * Every address mailbox `mailboxId` may send as, the same three sources resolveSender owns (its own address, enabled
   * aliases delivering to it, send-as grants), own address first; none for a suspended mailbox. Catch-alls are no
   * address to send as. Read afresh (JMAP Identity/get).
   */
  async senderIdentities(mailboxId: string): Promise<Array<{ address: string; name: string; kind: 'mailbox' | 'alias' | 'send-as' }>> {
    const { rows } = await this.pool.query<{ address: string; name: string; kind: 'mailbox' | 'alias' | 'send-as' }>(
      `SELECT DISTINCT ON (address) address, name, kind FROM (
         SELECT m.address, m.display_name AS name, 'mailbox' AS kind, 0 AS o FROM mailbox m WHERE m.id = $1 AND m.status = 'active'
         UNION ALL
         SELECT a.address, '' AS name, 'alias' AS kind, 1 AS o FROM alias a JOIN mailbox m ON m.id = $1
          WHERE a.enabled AND m.status = 'active' AND m.address = ANY (a.destinations) AND a.address NOT LIKE '*@%'
         UNION ALL
         SELECT s.address, '' AS name, 'send-as' AS kind, 2 AS o FROM mailbox_send_as s JOIN mailbox m ON m.id = s.mailbox_id
          WHERE s.mailbox_id = $1 AND m.status = 'active'
       ) x ORDER BY address, o`,
      [mailboxId],
    );
    const order = { mailbox: 0, alias: 1, 'send-as': 2 };
    return rows.sort((a, b) => order[a.kind] - order[b.kind] || a.address.localeCompare(b.address));
  }

  /** The domain of each address with every kind of address that could take its mail; none for a foreign domain. */
  private async lookUpRecipients(addresses: string[]): Promise<Array<RecipientRow | undefined>> {
    const { rows } = await this.pool.query<RecipientRow & { n: string }>(
      `SELECT q.n, d.tenant_id, d.status AS domain_status, d.smtp_enabled, t.status AS tenant_status,
              coalesce(tb.suspended_by_billing, false) AS tenant_unpaid,
              m.id AS mailbox_id, m.status AS mailbox_status, m.quota_bytes, m.used_bytes,
              a.id AS alias_id, g.id AS group_id, c.id AS catch_all_id
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(address, domain, n)
         JOIN domain d ON d.name = q.domain
         JOIN tenant t ON t.id = d.tenant_id
         LEFT JOIN tenant_billing tb ON tb.tenant_id = t.id
         LEFT JOIN mailbox m ON m.address = q.address
         LEFT JOIN alias a ON a.address = q.address AND a.enabled
         LEFT JOIN mail_group g ON g.address = q.address
         LEFT JOIN alias c ON c.address = '*@' || d.name AND c.enabled`,
      [addresses, addresses.map((a) => a.slice(a.lastIndexOf('@') + 1))],
    );
    const found = new Map<number, RecipientRow>();
    for (const r of rows) if (!found.has(Number(r.n))) found.set(Number(r.n), r);
    return addresses.map((_, i) => found.get(i + 1));
  }

  private async lookUpSenders(asks: Array<{ address: string; domain: string; mailboxId: string | null }>): Promise<SenderRow[]> {
    const { rows } = await this.pool.query<SenderRow & { n: string }>(
      `SELECT q.n, EXISTS (SELECT 1 FROM domain WHERE name = q.domain) AS local,
              -- A suspended mailbox owns nothing: a session it still holds (a node that missed the
              -- session-end announcement) cannot send as it.
              (EXISTS (SELECT 1 FROM mailbox WHERE id = q.mailbox_id AND address = q.address AND status = 'active')
               OR EXISTS (SELECT 1 FROM alias a JOIN mailbox m ON m.id = q.mailbox_id
                           WHERE a.address = q.address AND a.enabled AND m.status = 'active' AND m.address = ANY (a.destinations))
               OR EXISTS (SELECT 1 FROM mailbox_send_as s JOIN mailbox m ON m.id = s.mailbox_id
                           WHERE s.mailbox_id = q.mailbox_id AND s.address = q.address AND m.status = 'active')) AS owned
         FROM unnest($1::text[], $2::text[], $3::uuid[]) WITH ORDINALITY AS q(address, domain, mailbox_id, n)`,
      [asks.map((a) => a.address), asks.map((a) => a.domain), asks.map((a) => a.mailboxId)],
    );
    const found = new Map(rows.map((r) => [Number(r.n), r]));
    return asks.map((_, i) => found.get(i + 1)!);
  }

  /** Expanded by delivery's own resolver, so RCPT refuses exactly what delivery would. Never cached: it is cheap enough. */
  async expandRecipient(address: string, sender: ExpansionSender, limits: { maxGroupMembers: number }): Promise<RecipientExpansion> {
    const [group] = (
      await this.pool.query<{ posting_policy: PostingPolicy; allowed_senders: string[]; n: string }>(
        `SELECT g.posting_policy, g.allowed_senders, (SELECT count(*) FROM mail_group_member WHERE group_id = g.id) AS n
           FROM mail_group g WHERE g.address = $1`,
        [address],
      )
    ).rows;
    if (group && Number(group.n) > limits.maxGroupMembers) {
      // Too big to walk per RCPT: the posting policy alone, which is what a large list refuses anyway.
      const isLocal = sender.authenticated || (await this.isLocalMailbox(sender.address));
      const members = group.posting_policy === 'members' ? await this.groupMembers(address) : [];
      const allowed = mayPost(
        { address, postingPolicy: group.posting_policy, allowedSenders: group.allowed_senders, members },
        { address: sender.address, authenticated: sender.authenticated, isLocal },
      );
      const failures = allowed ? [] : [{ address, status: '5.7.1', reason: `the sender may not post to the group (policy ${group.posting_policy})` }];
      return { mailboxes: [], remotes: 0, failures, partial: true };
    }
    const resolver = new RecipientResolver(new PgDirectoryStore(this.pool));
    await resolver.prefetch([address, sender.address]);
    const isLocal = sender.authenticated || (await resolver.isLocalMailbox(sender.address));
    const e = await resolver.expand(address, { address: sender.address, authenticated: sender.authenticated, isLocal, xLoop: new Set() });
    const ids = [...e.mailboxes.values()].filter((t) => t.store).map((t) => t.mailboxId);
    const { rows } = ids.length
      ? await this.pool.query<{ address: string; quota_bytes: string; used_bytes: string }>(
          `SELECT address, quota_bytes, used_bytes FROM mailbox WHERE id = ANY($1::uuid[])`, [ids])
      : { rows: [] };
    return {
      mailboxes: rows.map((m) => ({ address: m.address, quotaBytes: Number(m.quota_bytes), usedBytes: Number(m.used_bytes) })),
      remotes: e.remotes.size,
      failures: e.failures,
    };
  }

  private async isLocalMailbox(address: string): Promise<boolean> {
    if (!address) return false;
    return (await this.pool.query(`SELECT 1 FROM mailbox WHERE address = $1`, [address])).rowCount! > 0;
  }

  /** The member patterns of a group, for the `members` posting policy (matched by the shared mayPost). */
  private async groupMembers(address: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ member: string }>(
      `SELECT member FROM mail_group_member WHERE group_id = (SELECT id FROM mail_group WHERE address = $1)`, [address]);
    return rows.map((r) => r.member);
  }

  async sendAllowance(mailboxId: string): Promise<{ limit: number | null; sentToday: number }> {
    const { rows } = await this.pool.query(
      `SELECT COALESCE(m.daily_send_limit, d.mailbox_daily_send_limit) AS send_limit,
              COALESCE((SELECT messages FROM send_count WHERE mailbox_id = m.id AND day = ${SEND_DAY_SQL}), 0) AS sent
         FROM mailbox m JOIN domain d ON d.id = m.domain_id WHERE m.id = $1`,
      [mailboxId],
    );
    const r = rows[0];
    if (!r) return { limit: 0, sentToday: 0 };
    return { limit: r.send_limit === null ? null : Number(r.send_limit), sentToday: Number(r.sent) };
  }
}
