/**
 * The signed-in mailbox user's webmail preferences. Only the user: admins manage mailboxes, not how someone reads
 * mail, and the list of senders whose images are trusted says who one corresponds with.
 */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor } from '@dizi/domain/policy';
import { forbidden } from '../../common/api-error';
import { MailboxPreferencePatchDto } from './dto';

interface PreferenceRow {
  density: 'comfortable' | 'compact';
  time_zone: string | null;
  image_senders: string[];
}

@Injectable()
export class MailboxPreferencesService {
  constructor(private readonly dataSource: DataSource) {}

  async get(actor: Actor) {
    const mailboxId = this.own(actor);
    const [row]: PreferenceRow[] = await this.dataSource.query(`SELECT * FROM mailbox_preference WHERE mailbox_id = $1`, [mailboxId]);
    return view(row);
  }

  async patch(actor: Actor, body: MailboxPreferencePatchDto) {
    const mailboxId = this.own(actor);
    const senders = body.imageSenders === undefined ? null : [...new Set(body.imageSenders)];
    // One statement: concurrent changes of different fields from two tabs both survive.
    const [row]: PreferenceRow[] = await this.dataSource.query(
      `INSERT INTO mailbox_preference (mailbox_id, density, time_zone, image_senders)
       VALUES ($1, COALESCE($2, 'comfortable'), CASE WHEN $3 THEN $4 ELSE NULL END, COALESCE($5::text[], '{}'))
       ON CONFLICT (mailbox_id) DO UPDATE SET
         density = COALESCE($2, mailbox_preference.density),
         time_zone = CASE WHEN $3 THEN $4 ELSE mailbox_preference.time_zone END,
         image_senders = COALESCE($5::text[], mailbox_preference.image_senders),
         updated_at = now()
       RETURNING *`,
      [mailboxId, body.density ?? null, body.timeZone !== undefined, body.timeZone ?? null, senders],
    );
    return view(row);
  }

  private own(actor: Actor): string {
    if (actor.kind !== 'mailbox') throw forbidden('preferences belong to mailbox users; sign in with a mailbox address');
    return actor.id;
  }
}

function view(row: PreferenceRow | undefined) {
  return { density: row?.density ?? 'comfortable', timeZone: row?.time_zone ?? null, imageSenders: row?.image_senders ?? [] };
}
