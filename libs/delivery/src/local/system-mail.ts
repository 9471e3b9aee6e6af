/**
 * Mail the system itself sends through the normal flow (DSNs, auto-replies): spooled like an inbound message, with
 * source `system`, so local recipients go through delivery and remote ones through outbound with all their retries.
 * The insert runs in the caller's transaction, together with the state change that decides the mail is due, so the
 * mail exists exactly once whatever crashes.
 */
import type { PoolClient } from 'pg';
import type { StoredBlob } from '@dizi/mail-store/ports/blob-store';

export interface SpooledSystemMail {
  spoolMessageId: string;
  /** Domains of its remote recipients (for outbound jobs); `hasLocal` when a delivery job is due. */
  remoteDomains: string[];
  hasLocal: boolean;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export async function spoolSystemMail(
  c: PoolClient, blob: StoredBlob, mailFrom: string, recipients: string[], summary: unknown = null,
): Promise<SpooledSystemMail> {
  const addresses = [...new Set(recipients.map((r) => r.toLowerCase()))];
  const { rows: local } = await c.query<{ name: string }>(`SELECT name FROM domain WHERE name = ANY($1)`, [addresses.map(domainOf)]);
  const localDomains = new Set(local.map((r) => r.name));
  const { rows } = await c.query<{ id: string }>(
    `INSERT INTO spool_message (blob_hash, size, mail_from, source, summary) VALUES ($1, $2, $3, 'system', $4) RETURNING id`,
    [blob.hash, blob.size, mailFrom, summary === null ? null : JSON.stringify(summary)],
  );
  const id = rows[0].id;
  await c.query(
    `INSERT INTO spool_recipient (message_id, address, kind, domain)
     SELECT $1, a, k, d FROM unnest($2::text[], $3::text[], $4::text[]) AS t(a, k, d)`,
    [id, addresses, addresses.map((a) => (localDomains.has(domainOf(a)) ? 'local' : 'remote')), addresses.map(domainOf)],
  );
  const remoteDomains = [...new Set(addresses.map(domainOf).filter((d) => !localDomains.has(d)))];
  return { spoolMessageId: id, remoteDomains, hasLocal: addresses.some((a) => localDomains.has(domainOf(a))) };
}
