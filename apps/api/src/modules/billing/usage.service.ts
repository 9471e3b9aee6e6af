/** Usage per tenant and day or month for ISPs that bill with their own systems (JSON or CSV). */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, forbidden } from '../../common/api-error';
import { PolicyService } from '../auth/policy.service';
import { UsageQueryDto } from './dto';

export interface UsageRow {
  tenantId: string;
  period: string;
  mailboxesPeak: number;
  storageGbDays: number;
  sentOutside: number;
  received: number;
  closed: boolean;
}

const DAY_MS = 86_400_000;
const MAX_DAYS = 731;

@Injectable()
export class UsageService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
  ) {}

  async list(actor: Actor, query: UsageQueryDto): Promise<UsageRow[]> {
    // Another tenant's id answers 404 whatever the role, before the role is checked (nothing is revealed).
    this.policy.assertTenantReference(actor, query.tenantId);
    if (actor.role !== 'operator' && actor.role !== 'tenant_admin') throw forbidden('only operators and tenant admins read usage');
    const tenantId = actor.role === 'operator' ? query.tenantId : actor.tenantId;
    const today = new Date().toISOString().slice(0, 10);
    const to = query.to ?? today;
    const from = query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 30 * DAY_MS).toISOString().slice(0, 10);
    if (from > to) throw badRequest('from must not be after to', 'from');
    if ((Date.parse(to) - Date.parse(from)) / DAY_MS > MAX_DAYS) throw badRequest(`at most ${MAX_DAYS} days at once`, 'from');
    const unit = query.period === 'month' ? 'YYYY-MM' : 'YYYY-MM-DD';
    // Storage: a day at its peak is that many GB-days (decimal GB, as Stripe meters and most price lists count).
    const rows = await this.dataSource.query(
      `SELECT tenant_id, to_char(day, '${unit}') AS period, max(mailboxes_peak)::int AS mailboxes_peak,
              round(sum(storage_bytes_peak) / 1e9, 3)::float8 AS storage_gb_days, sum(sent_outside)::int AS sent_outside,
              sum(received)::int AS received, bool_and(closed_at IS NOT NULL) AS closed
         FROM usage_daily
        WHERE day BETWEEN $1::date AND $2::date AND ($3::uuid IS NULL OR tenant_id = $3::uuid)
        GROUP BY tenant_id, 2 ORDER BY 2, tenant_id`,
      [from, to, tenantId ?? null],
    );
    return rows.map((r: Record<string, unknown>) => ({
      tenantId: r.tenant_id as string, period: r.period as string, mailboxesPeak: r.mailboxes_peak as number, storageGbDays: Number(r.storage_gb_days),
      sentOutside: r.sent_outside as number, received: r.received as number, closed: r.closed as boolean,
    }));
  }
}

export function usageCsv(rows: UsageRow[]): string {
  const lines = ['tenant_id,period,mailboxes_peak,storage_gb_days,sent_outside,received,closed'];
  for (const r of rows) lines.push([r.tenantId, r.period, r.mailboxesPeak, r.storageGbDays, r.sentOutside, r.received, r.closed].join(','));
  return `${lines.join('\r\n')}\r\n`;
}
