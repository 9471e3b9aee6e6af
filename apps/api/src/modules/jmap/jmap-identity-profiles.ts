/** The identity profiles of JMAP Identity/set (name, replyTo, bcc, signatures), kept in mailbox_identity_profile. */
import type { DataSource } from 'typeorm';
import type { IdentityProfile } from '@dizi/jmap/identities';

interface ProfileRow {
  address: string;
  name: string | null;
  reply_to: IdentityProfile['replyTo'];
  bcc: IdentityProfile['bcc'];
  signatures: IdentityProfile['signatures'];
}

export class PgIdentityProfiles {
  constructor(private readonly dataSource: DataSource) {}

  async profiles(mailboxId: string): Promise<Map<string, IdentityProfile>> {
    const rows: ProfileRow[] = await this.dataSource.query(
      `SELECT address, name, reply_to, bcc, signatures FROM mailbox_identity_profile WHERE mailbox_id = $1`, [mailboxId]);
    return new Map(rows.map((r) => [r.address, { name: r.name, replyTo: r.reply_to, bcc: r.bcc, signatures: r.signatures }]));
  }

  async saveProfile(mailboxId: string, address: string, profile: IdentityProfile): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO mailbox_identity_profile (mailbox_id, address, name, reply_to, bcc, signatures, updated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, now())
       ON CONFLICT (mailbox_id, address) DO UPDATE
         SET name = EXCLUDED.name, reply_to = EXCLUDED.reply_to, bcc = EXCLUDED.bcc, signatures = EXCLUDED.signatures, updated_at = now()`,
      [mailboxId, address, profile.name, json(profile.replyTo), json(profile.bcc), JSON.stringify(profile.signatures)]);
  }
}

const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));
