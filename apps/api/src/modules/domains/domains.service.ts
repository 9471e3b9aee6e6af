import { Inject, Injectable } from '@nestjs/common';
import { promises as dns } from 'node:dns';
import { generateKeyPair, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { DataSource, EntityManager } from 'typeorm';
import { dkimKeyField } from '@dizi/auth/keys-at-rest';
import type { SecretBox } from '@dizi/auth/secret-box';
import type { ApiConfig } from '@dizi/config/api.config';
import { DomainEntity } from '@dizi/db/entities/domain.entity';
import { DnsAnswer, DomainDnsFacts, ExpectedDnsRecord, expectedDnsRecords, judgeDnsAnswer } from '@dizi/domain/dns-records';
import { InvalidDomainNameError, normaliseDomainName, NormalisedDomain } from '@dizi/domain/domain-name';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, conflict, forbidden, notFound } from '../../common/api-error';
import { API_CONFIG, SECRET_BOX } from '../../common/tokens';
import { AuditService } from '../audit/audit.service';
import { PolicyService } from '../auth/policy.service';
import { LimitsService } from '../tenants/limits.service';
import { escapeLike } from '@dizi/db/escape-like';
import { mailHostOf } from './mail-host';
import { CreateDomainDto, DomainListQueryDto, UpdateDomainDto } from './dto';

const generateRsa = promisify(generateKeyPair);
const TENANT_ADMIN_FIELDS = ['status', 'maxStorageBytes', 'maxMailboxes'] as const;

export interface DomainUsage {
  mailboxes: number;
  usedBytes: number;
  allocatedBytes: number;
}

@Injectable()
export class DomainsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
    private readonly limits: LimitsService,
    @Inject(SECRET_BOX) private readonly secretBox: SecretBox,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async list(actor: Actor, query: DomainListQueryDto) {
    const scope = this.policy.listScope(actor);
    // Another tenant's id answers 404 before any role check, so whoever asks learns nothing from it.
    if (query.tenantId && actor.role === 'operator') await this.policy.tenant(actor, query.tenantId, 'operator');
    else if (query.tenantId && query.tenantId !== actor.tenantId) throw notFound('tenant');
    if (actor.role === 'user') throw forbidden('users do not list domains');
    const qb = this.dataSource.getRepository(DomainEntity).createQueryBuilder('d');
    if (scope.tenantId) qb.andWhere('d.tenant_id = :tenantId', { tenantId: scope.tenantId });
    if (scope.domainId) qb.andWhere('d.id = :domainId', { domainId: scope.domainId });
    if (query.tenantId) qb.andWhere('d.tenant_id = :qTenant', { qTenant: query.tenantId });
    if (query.q) qb.andWhere('(d.name ILIKE :q OR d.unicode_name ILIKE :q)', { q: `%${escapeLike(query.q.toLowerCase())}%` });
    if (query.status) qb.andWhere('d.status = :status', { status: query.status });
    const [rows, total] = await qb.orderBy('d.name').offset(query.offset).limit(query.limit).getManyAndCount();
    const usage = await this.usage(rows.map((d) => d.id));
    return { items: rows.map((d) => view(d, usage.get(d.id))), total, offset: query.offset, limit: query.limit };
  }

  async get(actor: Actor, idOrName: string) {
    const domain = await this.policy.domain(actor, idOrName, 'domain_admin');
    return view(domain, (await this.usage([domain.id])).get(domain.id));
  }

  async create(actor: Actor, ip: string | null, body: CreateDomainDto) {
    const tenantId = body.tenantId ?? actor.tenantId;
    if (!tenantId) throw badRequest('say which tenant owns the domain', 'tenantId');
    // Another tenant answers 404 whoever asks; one's own tenant tells the role what it lacks.
    if (actor.role !== 'operator' && tenantId !== actor.tenantId) throw notFound('tenant');
    if (actor.role !== 'operator' && actor.role !== 'tenant_admin') throw forbidden('only tenant admins and operators add domains');
    if (body.isDefault && actor.role !== 'operator') throw forbidden('only operators choose the default domain');
    const { name, unicode } = domainNameField(body.name);
    // RSA generation takes tens of milliseconds: off the event loop, and before the transaction's locks.
    const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
    return this.dataSource.transaction(async (m) => {
      await this.policy.tenant(actor, tenantId, 'tenant_admin', m);
      await this.limits.assertCanAddDomains(m, tenantId, 1);
      const [taken] = await m.query(`SELECT 1 FROM domain WHERE name = $1`, [name]);
      if (taken) throw conflict(`the domain ${name} already exists`, 'name');
      if (body.isDefault) await m.query(`UPDATE domain SET is_default = false WHERE is_default`);
      const repo = m.getRepository(DomainEntity);
      const { tenantId: _t, name: _n, ...settings } = body;
      // The id is chosen here: the sealed DKIM key is bound to its row.
      const id = randomUUID();
      const domain = await repo.save(
        repo.create({
          id,
          status: 'active', heloName: null, maxStorageBytes: null, maxMailboxes: null, isDefault: false, allowRegistration: false,
          smtpEnabled: true, pop3Enabled: true, imapEnabled: true, localOnly: false, mailboxDefaultQuotaBytes: 1024 ** 3,
          mailboxMaxQuotaBytes: null, mailboxDailySendLimit: null, dkimSelector: 'dizi',
          ...settings,
          tenantId,
          name,
          unicodeName: unicode,
          dkimPrivateKey: this.secretBox.seal(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), dkimKeyField(id)),
          dkimPublicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        }),
      );
      this.assertQuotaSettings(domain);
      await this.audit.record(m, actor, ip, { action: 'domain.create', objectType: 'domain', objectId: domain.id, tenantId, after: domain });
      return view(domain, { mailboxes: 0, usedBytes: 0, allocatedBytes: 0 });
    });
  }

  async update(actor: Actor, ip: string, idOrName: string, body: UpdateDomainDto) {
    return this.dataSource.transaction(async (m) => {
      const domain = await this.policy.domain(actor, idOrName, 'domain_admin', m);
      if (TENANT_ADMIN_FIELDS.some((f) => f in body)) {
        this.policy.check(actor, { tenantId: domain.tenantId, domainId: domain.id }, 'tenant_admin', 'domain');
      }
      if ('isDefault' in body && actor.role !== 'operator') throw forbidden('only operators choose the default domain');
      const before = { ...domain };
      if (body.isDefault) await m.query(`UPDATE domain SET is_default = false WHERE is_default AND id <> $1`, [domain.id]);
      Object.assign(domain, body);
      this.assertQuotaSettings(domain);
      const usage = (await this.usage([domain.id], m)).get(domain.id)!;
      if (domain.maxMailboxes !== null && usage.mailboxes > domain.maxMailboxes) {
        throw badRequest(`the domain already has ${usage.mailboxes} mailboxes, more than ${domain.maxMailboxes}`, 'maxMailboxes');
      }
      if (domain.maxStorageBytes !== null && usage.allocatedBytes > domain.maxStorageBytes) {
        throw badRequest(`the domain's mailboxes already hold quotas of ${usage.allocatedBytes} bytes, more than ${domain.maxStorageBytes}`, 'maxStorageBytes');
      }
      await m.getRepository(DomainEntity).save(domain);
      if (before.status === 'active' && domain.status === 'disabled') {
        await m.query(`UPDATE mailbox SET token_version = token_version + 1 WHERE domain_id = $1`, [domain.id]);
      }
      await this.audit.record(m, actor, ip, { action: 'domain.update', objectType: 'domain', objectId: domain.id, tenantId: domain.tenantId, before, after: domain });
      return view(domain, usage);
    });
  }

  /** Deletes the domain with its mailboxes and their mail; the request must repeat the domain's name. */
  async remove(actor: Actor, ip: string, idOrName: string, confirm: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const domain = await this.policy.domain(actor, idOrName, 'tenant_admin', m);
      const said = confirm.trim().toLowerCase();
      if (said !== domain.name && said !== domain.unicodeName.toLowerCase()) {
        throw badRequest(`repeat the domain name "${domain.unicodeName}" in "confirm" to delete it with all its mailboxes and mail`, 'confirm');
      }
      const usage = (await this.usage([domain.id], m)).get(domain.id);
      await m.query(
        `UPDATE refresh_token SET revoked_at = now() WHERE revoked_at IS NULL AND subject_kind = 'mailbox'
           AND subject_id IN (SELECT id FROM mailbox WHERE domain_id = $1)`,
        [domain.id],
      );
      await m.getRepository(DomainEntity).delete(domain.id);
      await this.audit.record(m, actor, ip, { action: 'domain.delete', objectType: 'domain', objectId: domain.id, tenantId: domain.tenantId, before: { ...domain, usage } });
    });
  }

  /** The DNS records to publish: MX, SPF, DKIM, DMARC, client autoconfiguration SRV records and MTA-STS. */
  async dns(actor: Actor, idOrName: string) {
    const domain = await this.policy.domain(actor, idOrName, 'domain_admin');
    return { domain: domain.name, records: expectedDnsRecords(dnsFacts(domain)).map(publishedRecord) };
  }

  /** Looks each record up through the configured resolver (DNS_SERVERS) and says whether it is found, missing or wrong. */
  async checkDns(actor: Actor, idOrName: string) {
    const domain = await this.policy.domain(actor, idOrName, 'domain_admin');
    const facts = dnsFacts(domain);
    const resolver = new dns.Resolver({ timeout: this.config.DNS_TIMEOUT_MS, tries: 2 });
    const servers = this.config.DNS_SERVERS.split(',').map((x) => x.trim()).filter(Boolean);
    if (servers.length) resolver.setServers(servers);
    const expected = expectedDnsRecords(facts);
    // One lookup per name and type: SPF and MX share the domain's name.
    const lookups = new Map<string, Promise<DnsAnswer>>();
    const answer = (type: 'MX' | 'TXT' | 'SRV', name: string) => {
      const key = `${type} ${name}`;
      if (!lookups.has(key)) lookups.set(key, lookUp(resolver, type, name));
      return lookups.get(key)!;
    };
    const records = await Promise.all(
      expected.map(async (e) => ({ ...publishedRecord(e), ...judgeDnsAnswer(e, await answer(e.type, e.name), facts.mailHost) })),
    );
    return { domain: domain.name, checkedAt: new Date().toISOString(), records };
  }

  async usage(ids: string[], m: EntityManager = this.dataSource.manager): Promise<Map<string, DomainUsage>> {
    const out = new Map<string, DomainUsage>(ids.map((id) => [id, { mailboxes: 0, usedBytes: 0, allocatedBytes: 0 }]));
    if (!ids.length) return out;
    const rows = await m.query(
      `SELECT domain_id, count(*)::int AS mailboxes, coalesce(sum(used_bytes), 0)::bigint AS used, coalesce(sum(quota_bytes), 0)::bigint AS allocated
         FROM mailbox WHERE domain_id = ANY($1) GROUP BY domain_id`,
      [ids],
    );
    for (const r of rows) out.set(r.domain_id, { mailboxes: r.mailboxes, usedBytes: Number(r.used), allocatedBytes: Number(r.allocated) });
    return out;
  }

  private assertQuotaSettings(d: DomainEntity): void {
    if (d.mailboxMaxQuotaBytes !== null && d.mailboxDefaultQuotaBytes > d.mailboxMaxQuotaBytes) {
      throw badRequest('the default mailbox quota is larger than the maximum mailbox quota', 'mailboxDefaultQuotaBytes');
    }
  }
}

function dnsFacts(d: DomainEntity): DomainDnsFacts {
  return {
    name: d.name,
    mailHost: mailHostOf(d.name, d.heloName),
    dkimSelector: d.dkimSelector,
    dkimPublicKey: d.dkimPublicKey,
    // RFC 8461 ids are letters and digits: the domain's creation time, which a console user can read back.
    mtaStsId: d.createdAt.toISOString().replace(/\D/g, '').slice(0, 14),
  };
}

function publishedRecord(e: ExpectedDnsRecord) {
  return { kind: e.kind, type: e.type, name: e.name, value: e.value, purpose: e.purpose };
}

const NO_DATA = new Set(['ENODATA', 'ENOTFOUND']);

/** One lookup; "no such name" and "no such record" are an answer (missing), anything else a failed lookup. */
async function lookUp(resolver: dns.Resolver, type: 'MX' | 'TXT' | 'SRV', name: string): Promise<DnsAnswer> {
  try {
    if (type === 'MX') return { kind: 'mx', records: await resolver.resolveMx(name) };
    if (type === 'SRV') return { kind: 'srv', records: await resolver.resolveSrv(name) };
    return { kind: 'txt', records: await resolver.resolveTxt(name) };
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'EUNKNOWN';
    return NO_DATA.has(code) ? { kind: 'none' } : { kind: 'error', code };
  }
}

/** The `name` of a request, normalised; a bad one is a 400 that names the field. */
function domainNameField(input: string): NormalisedDomain {
  try {
    return normaliseDomainName(input);
  } catch (e) {
    if (e instanceof InvalidDomainNameError) throw badRequest(e.message, 'name');
    throw e;
  }
}

export function view(d: DomainEntity, usage: DomainUsage = { mailboxes: 0, usedBytes: 0, allocatedBytes: 0 }) {
  return {
    id: d.id,
    tenantId: d.tenantId,
    name: d.name,
    unicodeName: d.unicodeName,
    status: d.status,
    heloName: d.heloName,
    maxStorageBytes: d.maxStorageBytes,
    maxMailboxes: d.maxMailboxes,
    isDefault: d.isDefault,
    allowRegistration: d.allowRegistration,
    smtpEnabled: d.smtpEnabled,
    pop3Enabled: d.pop3Enabled,
    imapEnabled: d.imapEnabled,
    localOnly: d.localOnly,
    mailboxDefaultQuotaBytes: d.mailboxDefaultQuotaBytes,
    mailboxMaxQuotaBytes: d.mailboxMaxQuotaBytes,
    mailboxDailySendLimit: d.mailboxDailySendLimit,
    dkimSelector: d.dkimSelector,
    usage,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}
