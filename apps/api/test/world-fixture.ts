/** A tenant with one of every object the API manages, written straight to the database (the cross-tenant walker and the fuzz harness). */
import { randomUUID } from 'node:crypto';
import { hashPassword } from '@dizi/auth/password-hash';
import { ApiKeyService } from '../src/modules/auth/api-key.service';
import { JmapService } from '../src/modules/jmap/jmap.service';
import { TEST_PASSWORD, TestApi } from './harness';

export interface World {
  tenant: { id: string; name: string };
  domain: { id: string; name: string };
  /** An international domain, stored in punycode: reachable by either form. */
  idn: { id: string; name: string; unicode: string };
  mailboxes: Record<'tenant_admin' | 'domain_admin' | 'user', { id: string; address: string }>;
  alias: { id: string; address: string };
  group: { id: string; address: string };
  book: { id: string; name: string };
  contact: { id: string };
  code: { id: string };
  apiKey: { id: string; key: string };
  importJob: { id: string };
  /** A spooled recipient of mail sent by the tenant's user (the operators' queue). */
  queueEntry: { id: string };
  /** A message held in quarantine for the tenant's user (its blob really stored, for the preview). */
  quarantineEntry: { id: string };
}

export async function seedWorld(api: TestApi, tag: string, idn: string): Promise<World> {
  const q = async (sql: string, params: unknown[]): Promise<any> => (await api.db.dataSource.query(sql, params))[0];
  const tenant = await q(`INSERT INTO tenant (name, max_domains, max_mailboxes) VALUES ($1, 10, 100) RETURNING id, name`, [`${tag} Tenant`]);
  const domainName = `${tag.toLowerCase()}.test`;
  const domain = await q(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, $2, $2) RETURNING id, name`, [tenant.id, domainName]);
  const idnAscii = new URL(`http://${idn}`).hostname;
  const idnRow = await q(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, $2, $3) RETURNING id`, [tenant.id, idnAscii, idn]);
  const hash = await hashPassword(TEST_PASSWORD);
  const mailboxes = {} as World['mailboxes'];
  for (const role of ['tenant_admin', 'domain_admin', 'user'] as const) {
    const local = role.replace('_', '-');
    const address = `${local}@${domainName}`;
    const row = await q(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, role, password_hash, quota_bytes) VALUES ($1, $2, $3, $4, $5, $6, 1048576) RETURNING id`,
      [tenant.id, domain.id, local, address, role, hash],
    );
    mailboxes[role] = { id: row.id, address };
  }
  const alias = await q(
    `INSERT INTO alias (tenant_id, domain_id, local_part, address, destinations) VALUES ($1, $2, 'sales', $3, ARRAY[$4]) RETURNING id, address`,
    [tenant.id, domain.id, `sales@${domainName}`, mailboxes.user.address],
  );
  const group = await q(
    `INSERT INTO mail_group (tenant_id, domain_id, local_part, address, name) VALUES ($1, $2, 'team', $3, 'Team') RETURNING id, address`,
    [tenant.id, domain.id, `team@${domainName}`],
  );
  await q(`INSERT INTO mail_group_member (group_id, member) VALUES ($1, $2)`, [group.id, mailboxes.user.address]);
  const book = await q(`INSERT INTO address_book (tenant_id, domain_id, name) VALUES ($1, $2, 'Staff') RETURNING id, name`, [tenant.id, domain.id]);
  const contact = await q(`INSERT INTO contact (book_id, display_name, email) VALUES ($1, 'Pat', 'pat@example.test') RETURNING id`, [book.id]);
  const code = await q(
    `INSERT INTO registration_code (id, domain, max_domains, max_mailboxes, issued_by, tenant_id, redeemed_at) VALUES ($1, $2, 5, 50, 'op', $3, now()) RETURNING id`,
    [randomUUID(), domainName, tenant.id],
  );
  const minted = ApiKeyService.mint();
  const apiKey = await q(
    `INSERT INTO api_key (name, tenant_id, role, prefix, key_hash, created_by) VALUES ($1, $2, 'tenant_admin', $3, $4, 'op') RETURNING id`,
    [`${tag} automation`, tenant.id, minted.prefix, minted.hash],
  );
  const importJob = await q(
    `INSERT INTO import_job (tenant_id, domain_id, kind, status, started_by, finished_at) VALUES ($1, $2, 'mailboxes', 'done', 'op', now()) RETURNING id`,
    [tenant.id, domain.id],
  );
  const blobHash = randomUUID().replaceAll('-', '').repeat(2);
  await q(`INSERT INTO blob (hash, size) VALUES ($1, 10) RETURNING hash`, [blobHash]);
  const spooled = await q(`INSERT INTO spool_message (blob_hash, size, mail_from, source, auth_mailbox_id) VALUES ($1, 10, $2, 'submission', $3) RETURNING id`, [blobHash, mailboxes.user.address, mailboxes.user.id]);
  // A "send as" grant of the user's mailbox (the alias's address): another tenant may neither see nor revoke it.
  await q(`INSERT INTO mailbox_send_as (tenant_id, mailbox_id, address, granted_by) VALUES ($1, $2, $3, 'walker') RETURNING id`, [tenant.id, mailboxes.user.id, alias.address]);
  // Sieve scripts of the domain and of the user's mailbox, named after the domain so A's and B's names differ.
  await q(`INSERT INTO sieve_script (level, domain_id, name, content) VALUES ('domain', $1, $2, 'keep;') RETURNING id`, [domain.id, `rules-${domainName}`]);
  await q(`INSERT INTO sieve_script (level, mailbox_id, name, content) VALUES ('mailbox', $1, $2, 'keep;') RETURNING id`, [mailboxes.user.id, `rules-${domainName}`]);
  const queueEntry = await q(`INSERT INTO spool_recipient (message_id, address, kind, domain) VALUES ($1, 'far@remote.test', 'remote', 'remote.test') RETURNING id::text`, [spooled.id]);
  const held = await (await api.app.get(JmapService).mail()).store.putBlob(
    Buffer.from(`From: <promo@remote.test>\r\nTo: <${mailboxes.user.address}>\r\nSubject: ${tag} offer\r\n\r\nBuy now.\r\n`),
  );
  const heldMessage = await q(
    `INSERT INTO spool_message (blob_hash, size, mail_from, source) VALUES ($1, $2, 'promo@remote.test', 'smtp') RETURNING id`, [held.hash, held.size],
  );
  const quarantineEntry = await q(
    `INSERT INTO spool_recipient (message_id, address, kind, domain, held_at, next_attempt_at) VALUES ($1, $2, 'local', $3, now(), 'infinity') RETURNING id::text`,
    [heldMessage.id, mailboxes.user.address, domainName],
  );
  await q(
    `INSERT INTO quarantine (recipient_id, message_id, address, mailbox_id, domain_id, tenant_id, reason, detail, spam_score)
     VALUES ($1, $2, $3, $4, $5, $6, 'spam', 'score 12.0', 12) RETURNING recipient_id`,
    [quarantineEntry.id, heldMessage.id, mailboxes.user.address, mailboxes.user.id, domain.id, tenant.id],
  );
  return {
    tenant,
    domain,
    idn: { id: idnRow.id, name: idnAscii, unicode: idn },
    mailboxes,
    alias,
    group,
    book,
    contact,
    code,
    apiKey: { id: apiKey.id, key: minted.key },
    importJob,
    queueEntry,
    quarantineEntry,
  };
}
