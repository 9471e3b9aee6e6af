/** The automatic whitelist on PostgreSQL (table mailbox_trusted_sender): written by the spool writer, read by the MX checks. */
import type { Pool } from 'pg';
import type { TrustedSenders } from '@dizi/smtp/inbound/ports';

/** Beyond this many recipients of one message the rest are not remembered (a bulk send is no correspondence). */
const MAX_REMEMBERED = 50;

export class PgTrustedSenders implements TrustedSenders {
  constructor(private readonly pool: Pool) {}

  async trustedBy(sender: string, recipients: string[]): Promise<string[]> {
    if (!sender || recipients.length === 0) return [];
    const { rows } = await this.pool.query<{ address: string }>(
      `SELECT m.address FROM mailbox_trusted_sender t JOIN mailbox m ON m.id = t.mailbox_id
        WHERE t.address = $1 AND m.address = ANY($2::text[])`,
      [sender, recipients],
    );
    return rows.map((r) => r.address);
  }
}

/** Remembers that mailbox `mailboxId` wrote to `addresses` (stored form). */
export async function rememberCorrespondents(pool: Pool, mailboxId: string, addresses: string[]): Promise<void> {
  const unique = [...new Set(addresses.filter(Boolean))].slice(0, MAX_REMEMBERED).sort();
  if (unique.length === 0) return;
  await pool.query(
    `INSERT INTO mailbox_trusted_sender (mailbox_id, address) SELECT $1, unnest($2::text[])
     ON CONFLICT (mailbox_id, address) DO UPDATE SET last_used_at = now()`,
    [mailboxId, unique],
  );
}
