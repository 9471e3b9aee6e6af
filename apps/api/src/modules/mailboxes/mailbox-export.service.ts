/** CSV export of a domain's mailboxes in the import format, streamed page by page so memory stays flat. */
import { Injectable, Logger } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import { pipeline, Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { canManageMailbox, type Actor } from '@dizi/domain/policy';
import type { MailboxRole } from '@dizi/domain/roles';
import { AuditService } from '../audit/audit.service';
import { PolicyService } from '../auth/policy.service';
import { CSV_HEADER, neutraliseCell } from './mailbox-csv';

const PAGE = 1000;

interface MailboxRecord {
  id: string;
  tenant_id: string;
  domain_id: string;
  role: MailboxRole;
  local_part: string;
  address: string;
  display_name: string;
  quota_bytes: string;
  password_hash: string;
}

export interface MailboxExport {
  filename: string;
  stream: Readable;
}

@Injectable()
export class MailboxExportService {
  private readonly logger = new Logger('MailboxExport');

  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
  ) {}

  async export(actor: Actor, ip: string, domainRef: string): Promise<MailboxExport> {
    const domain = await this.policy.domain(actor, domainRef, 'domain_admin');
    // The file carries password hashes: who took it is worth a line in the trail.
    await this.audit.record(this.dataSource.manager, actor, ip, { action: 'mailbox.export', objectType: 'domain', objectId: domain.id, tenantId: domain.tenantId });
    const csv = stringify();
    pipeline(Readable.from(this.records(actor, domain.id)), csv, (e) => {
      if (e) this.logger.error(`export of ${domain.name} stopped: ${e.message}`);
    });
    return { filename: `${domain.name}-mailboxes.csv`, stream: csv };
  }

  /** A mailbox the caller may not manage (a tenant admin's, for a domain admin) is listed without its hash. */
  private async *records(actor: Actor, domainId: string): AsyncGenerator<string[]> {
    yield CSV_HEADER;
    let after = '';
    for (;;) {
      // Keyset paging on the (domain_id, local_part) index: each page is one short query.
      const page: MailboxRecord[] = await this.dataSource.query(
        `SELECT id, tenant_id, domain_id, role, local_part, address, display_name, quota_bytes, password_hash FROM mailbox
          WHERE domain_id = $1 AND local_part > $2 ORDER BY local_part LIMIT ${PAGE}`,
        [domainId, after],
      );
      for (const r of page) {
        const manageable = canManageMailbox(actor, { tenantId: r.tenant_id, domainId: r.domain_id, mailboxId: r.id, role: r.role }, false);
        yield [neutraliseCell(r.address), neutraliseCell(r.display_name), r.quota_bytes, manageable ? r.password_hash : ''];
      }
      if (page.length < PAGE) return;
      after = page[page.length - 1].local_part;
    }
  }
}
