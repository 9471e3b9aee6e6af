import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { smtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { ClientConfigFacts, MtaStsMode } from '@dizi/domain/client-config';
import { normaliseDomainName } from '@dizi/domain/domain-name';
import { mailHostOf } from '../domains/mail-host';

/** The hosted domains' facts that autoconfig, autodiscover and MTA-STS answers are made of. */
@Injectable()
export class ClientConfigService {
  constructor(private readonly dataSource: DataSource) {}

  /** An active hosted domain by name (Unicode or ASCII, any case), or null: nothing is said about other names. */
  async domain(name: string): Promise<ClientConfigFacts | null> {
    let ascii: string;
    try {
      ascii = normaliseDomainName(name).name;
    } catch {
      return null;
    }
    const [row] = await this.dataSource.query(
      `SELECT d.name, d.helo_name, d.imap_enabled, d.pop3_enabled, d.smtp_enabled
         FROM domain d JOIN tenant t ON t.id = d.tenant_id
        WHERE d.name = $1 AND d.status = 'active' AND t.status = 'active'`,
      [ascii],
    );
    if (!row) return null;
    return { domain: row.name, mailHost: mailHostOf(row.name, row.helo_name), imap: row.imap_enabled, pop3: row.pop3_enabled, smtp: row.smtp_enabled };
  }

  async mtaSts(): Promise<{ mode: MtaStsMode; maxAgeSeconds: number }> {
    const [row] = await this.dataSource.query(`SELECT value FROM system_setting WHERE key = 'smtp'`);
    const parsed = smtpSettings.safeParse(row?.value ?? {});
    const s = parsed.success ? parsed.data : smtpSettings.parse({});
    return { mode: s.mtaStsMode, maxAgeSeconds: s.mtaStsMaxAgeDays * 86_400 };
  }
}
