/** DirectoryStore on PostgreSQL: the statements recipient expansion, forwarding and filing used to run inline. */
import type { Pool } from 'pg';
import type { PostingPolicy } from '@dizi/domain/group-posting';
import type {
  DirectoryDomain, DirectoryGroup, DirectoryMailbox, DirectorySnapshot, DirectoryStore, MailboxDeliverySettings, SendingDomain,
  TransportRoute,
} from '../../ports/directory-store';

interface MailboxRow {
  id: string;
  address: string;
  display_name: string;
  status: string;
}

interface GroupRow {
  id: string;
  address: string;
  posting_policy: string;
  allowed_senders: string[];
  keep_copy: boolean;
  rewrite_recipient: boolean;
  members: string[];
}

interface DeliverySettingsRow {
  forward_to: string[];
  forward_keep_copy: boolean;
  auto_reply_enabled: boolean;
  auto_reply_subject: string;
  auto_reply_body: string;
  auto_reply_starts_at: Date | string | null;
  auto_reply_ends_at: Date | string | null;
}

/** Timestamps arrive as Date from a row and as text from json. */
const toDate = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

const mailboxOf = (r: MailboxRow): DirectoryMailbox => ({ id: r.id, address: r.address, displayName: r.display_name, status: r.status });
const groupOf = (g: GroupRow): DirectoryGroup => ({
  id: g.id, address: g.address, postingPolicy: g.posting_policy as PostingPolicy, allowedSenders: g.allowed_senders,
  keepCopy: g.keep_copy, rewriteRecipient: g.rewrite_recipient, members: g.members,
});
const settingsOf = (r: DeliverySettingsRow): MailboxDeliverySettings => ({
  forwardTo: r.forward_to, forwardKeepCopy: r.forward_keep_copy, autoReplyEnabled: r.auto_reply_enabled,
  autoReplySubject: r.auto_reply_subject, autoReplyBody: r.auto_reply_body,
  autoReplyStartsAt: toDate(r.auto_reply_starts_at), autoReplyEndsAt: toDate(r.auto_reply_ends_at),
});

export class PgDirectoryStore implements DirectoryStore {
  constructor(private readonly pool: Pick<Pool, 'query'>) {}

  async lookupMany(keys: string[], domains: string[], aliasKeys: string[]): Promise<DirectorySnapshot> {
    const { rows: [r] } = await this.pool.query<{
      domains: DirectoryDomain[] | null; groups: GroupRow[] | null; aliases: Array<{ address: string; destinations: string[] }> | null;
      mailboxes: Array<MailboxRow & { settings: DeliverySettingsRow | null }> | null;
    }>(
      `SELECT (SELECT json_agg(json_build_object('name', name, 'status', status)) FROM domain WHERE name = ANY($2)) AS domains,
              (SELECT json_agg(json_build_object('id', g.id, 'address', g.address, 'posting_policy', g.posting_policy,
                        'allowed_senders', g.allowed_senders, 'keep_copy', g.keep_copy, 'rewrite_recipient', g.rewrite_recipient,
                        'members', COALESCE((SELECT array_agg(member) FROM mail_group_member WHERE group_id = g.id), '{}')))
                 FROM mail_group g WHERE g.address = ANY($1)) AS groups,
              (SELECT json_agg(json_build_object('id', m.id, 'address', m.address, 'display_name', m.display_name, 'status', m.status,
                        'settings', (SELECT row_to_json(s) FROM (
                           SELECT forward_to, forward_keep_copy, auto_reply_enabled, auto_reply_subject, auto_reply_body,
                                  auto_reply_starts_at, auto_reply_ends_at
                             FROM mailbox_delivery WHERE mailbox_id = m.id) s)))
                 FROM mailbox m WHERE m.address = ANY($1)) AS mailboxes,
              (SELECT json_agg(json_build_object('address', address, 'destinations', destinations))
                 FROM alias WHERE address = ANY($3) AND enabled) AS aliases`,
      [keys, domains, aliasKeys],
    );
    return {
      domains: r.domains ?? [],
      groups: (r.groups ?? []).map(groupOf),
      mailboxes: (r.mailboxes ?? []).map(({ settings, ...m }) => ({ ...mailboxOf(m), settings: settings ? settingsOf(settings) : null })),
      aliases: r.aliases ?? [],
    };
  }

  async domain(name: string): Promise<DirectoryDomain | null> {
    const { rows } = await this.pool.query<DirectoryDomain>(`SELECT name, status FROM domain WHERE name = $1`, [name]);
    return rows[0] ?? null;
  }

  async group(address: string): Promise<DirectoryGroup | null> {
    const { rows } = await this.pool.query<GroupRow>(
      `SELECT g.id, g.address, g.posting_policy, g.allowed_senders, g.keep_copy, g.rewrite_recipient,
              COALESCE((SELECT array_agg(member) FROM mail_group_member WHERE group_id = g.id), '{}') AS members
         FROM mail_group g WHERE g.address = $1`,
      [address],
    );
    return rows[0] ? groupOf(rows[0]) : null;
  }

  async mailbox(address: string): Promise<DirectoryMailbox | null> {
    const { rows } = await this.pool.query<MailboxRow>(`SELECT id, address, display_name, status FROM mailbox WHERE address = $1`, [address]);
    return rows[0] ? mailboxOf(rows[0]) : null;
  }

  async aliasDestinations(address: string): Promise<string[] | null> {
    const { rows } = await this.pool.query(`SELECT destinations FROM alias WHERE address = $1 AND enabled`, [address]);
    return rows[0]?.destinations ?? null;
  }

  async deliverySettings(mailboxId: string): Promise<MailboxDeliverySettings | null> {
    const { rows } = await this.pool.query<DeliverySettingsRow>(
      `SELECT forward_to, forward_keep_copy, auto_reply_enabled, auto_reply_subject, auto_reply_body,
              auto_reply_starts_at, auto_reply_ends_at
         FROM mailbox_delivery WHERE mailbox_id = $1`,
      [mailboxId],
    );
    return rows[0] ? settingsOf(rows[0]) : null;
  }

  async activeMailboxesOfDomain(domain: string): Promise<DirectoryMailbox[]> {
    const { rows } = await this.pool.query<MailboxRow>(
      `SELECT m.id, m.address, m.display_name, m.status FROM mailbox m JOIN domain d ON d.id = m.domain_id
        WHERE d.name = $1 AND d.status = 'active' AND m.status = 'active' ORDER BY m.address`,
      [domain],
    );
    return rows.map(mailboxOf);
  }

  async localDomains(names: string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const { rows } = await this.pool.query<{ name: string }>(`SELECT name FROM domain WHERE name = ANY($1)`, [names]);
    return new Set(rows.map((r) => r.name));
  }

  async specialUseFolders(mailboxIds: string[], specialUse: string): Promise<Map<string, string>> {
    if (mailboxIds.length === 0) return new Map();
    const { rows } = await this.pool.query<{ mailbox_id: string; id: string }>(
      `SELECT mailbox_id, id FROM folder WHERE mailbox_id = ANY($1::uuid[]) AND special_use = $2`,
      [mailboxIds, specialUse],
    );
    return new Map(rows.map((r) => [r.mailbox_id, r.id]));
  }

  async sendingDomain(name: string): Promise<SendingDomain | null> {
    const { rows } = await this.pool.query<{ id: string; name: string; helo_name: string | null; dkim_selector: string; dkim_private_key: string | null; tenant_id: string }>(
      `SELECT id::text, name, helo_name, dkim_selector, dkim_private_key, tenant_id FROM domain WHERE name = $1`, [name]);
    const r = rows[0];
    return r ? { id: r.id, name: r.name, heloName: r.helo_name, dkimSelector: r.dkim_selector, dkimPrivateKey: r.dkim_private_key, tenantId: r.tenant_id } : null;
  }

  async transportRoute(domain: string): Promise<TransportRoute | null> {
    const { rows } = await this.pool.query(`SELECT host, port, require_tls FROM transport_route WHERE domain = $1`, [domain]);
    return rows[0] ? { host: rows[0].host, port: rows[0].port, requireTls: rows[0].require_tls } : null;
  }
}
