import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { hashPassword } from '@dizi/auth/password-hash';
import { DomainEntity } from '@dizi/db/entities/domain.entity';
import { MailboxEntity } from '@dizi/db/entities/mailbox.entity';
import { InvalidAddressError, normaliseLocalPart, parseAddress } from '@dizi/domain/address';
import { canGrantRole, type Actor } from '@dizi/domain/policy';
import type { MailboxRole } from '@dizi/domain/roles';
import { badRequest, conflict, forbidden, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { addressKey, isUuid, PolicyService } from '../auth/policy.service';
import { SessionEndsService } from '../auth/session-ends.service';
import { LimitsService } from '../tenants/limits.service';
import { escapeLike } from '@dizi/db/escape-like';
import { BulkDeleteMailboxesDto, CreateMailboxDto, MailboxListQueryDto, UpdateMailboxDto } from './dto';
import { assertAddressFree } from '../../common/address-ownership';
import { MailboxDirectoryCache } from './mailbox-directory-cache';
import { requestWelcomeMail } from './welcome-mail';

/**
 * Matches are counted up to here; past it the page says `totalCapped`. Measured on 100k mailboxes
 * (bench/mailbox-list): counting 10,000 matches of a 2-letter fragment, which no trigram index can
 * serve, took 60-130 ms against 7-16 ms for 1,000.
 */
export const COUNT_CAP = 1_000;

const MAILBOX_COLUMNS = `m.id, m.tenant_id AS "tenantId", m.domain_id AS "domainId", m.local_part AS "localPart", m.address,
  m.display_name AS "displayName", m.role, m.status, m.may_send_outside AS "maySendOutside", m.daily_send_limit AS "dailySendLimit",
  m.quota_bytes AS "quotaBytes", m.used_bytes AS "usedBytes", m.message_count AS "messageCount", m.created_at AS "createdAt", m.updated_at AS "updatedAt"`;

type MailboxRow = Omit<MailboxEntity, 'passwordHash' | 'tokenVersion'>;


export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

@Injectable()
export class MailboxesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
    private readonly limits: LimitsService,
    private readonly directory: MailboxDirectoryCache,
    private readonly sessionEnds: SessionEndsService,
  ) {}

  async list(actor: Actor, query: MailboxListQueryDto) {
    this.policy.assertTenantReference(actor, query.tenantId);
    // Another tenant's domain answers 404 before the role refusal, so the answer reveals nothing.
    if (query.domain && actor.role === 'user') await this.policy.domain(actor, query.domain, 'domain_admin');
    if (actor.role === 'user') throw forbidden('users do not list mailboxes; read your own at GET /api/mailboxes/{address}');
    const scope = this.policy.listScope(actor);
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (v: unknown) => `$${params.push(v)}`;
    if (scope.tenantId) where.push(`m.tenant_id = ${param(scope.tenantId)}`);
    if (scope.domainId) where.push(`m.domain_id = ${param(scope.domainId)}`);
    if (query.tenantId && query.tenantId !== actor.tenantId) await this.policy.tenant(actor, query.tenantId, 'tenant_admin');
    if (query.tenantId) where.push(`m.tenant_id = ${param(query.tenantId)}`);
    let oneDomain = !!scope.domainId;
    let domain: DomainEntity | undefined;
    if (query.domain) {
      domain = await this.policy.domain(actor, query.domain, 'domain_admin');
      where.push(`m.domain_id = ${param(domain.id)}`);
      oneDomain = true;
    }
    // One domain: served from the in-memory index when it holds the domain (exact totals, no table scan).
    if (oneDomain) {
      domain ??= await this.policy.domain(actor, scope.domainId!, 'domain_admin');
      const indexed = await this.indexedPage(domain, query);
      if (indexed) return indexed;
    }
    if (query.q) {
      const q = query.q.toLowerCase();
      const at = q.indexOf('@');
      if (at >= 0) {
        // A fragment spanning the @: the local part must end with what precedes it (trigram-indexed).
        where.push(`m.address LIKE ${param(`%${escapeLike(q)}%`)}`);
        if (at > 0) where.push(`m.local_part LIKE ${param(`%${escapeLike(q.slice(0, at))}`)}`);
      } else {
        const like = param(`%${escapeLike(q)}%`);
        where.push(`(m.local_part LIKE ${like} OR lower(m.display_name) LIKE ${like})`);
      }
    }
    if (query.initial) where.push(`m.local_part LIKE ${param(`${query.initial.toLowerCase()}%`)}`);
    if (query.status) where.push(`m.status = ${param(query.status)}`);
    if (query.role) where.push(`m.role = ${param(query.role)}`);
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // Within one domain, address order is local-part order, which the (domain_id, local_part) index provides.
    const order = oneDomain ? 'm.local_part' : 'm.address';
    // Count first (capped): it decides the plan. Few matches: fetch them all through the trigram indexes and sort
    // them (walking the ordered index would scan the whole domain to find them). Many matches: walk the ordered
    // index, which finds a page of dense matches at once.
    const [{ n }] = await this.dataSource.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM mailbox m ${filter} LIMIT ${COUNT_CAP + 1}) capped`, params);
    const page = (by: string) => `ORDER BY ${by} OFFSET ${query.offset} LIMIT ${query.limit}`;
    const rows: MailboxRow[] = await this.dataSource.query(
      n <= COUNT_CAP && where.length
        ? `WITH hits AS MATERIALIZED (SELECT ${MAILBOX_COLUMNS} FROM mailbox m ${filter}) SELECT * FROM hits ${page(oneDomain ? '"localPart"' : 'address')}`
        : `SELECT ${MAILBOX_COLUMNS} FROM mailbox m ${filter} ${page(order)}`,
      params,
    );
    const capped = n > COUNT_CAP;
    // A capped total is a lower bound; a page beyond it still proves that many exist.
    const total = capped ? Math.max(n, query.offset + rows.length) : n;
    return { items: rows.map(view), total, totalCapped: capped, offset: query.offset, limit: query.limit };
  }

  /** A page of one domain from its in-memory search index; null when the domain is too large to index. */
  private async indexedPage(domain: DomainEntity, query: MailboxListQueryDto) {
    const page = { offset: query.offset, limit: query.limit, totalCapped: false };
    if (query.tenantId && query.tenantId !== domain.tenantId) return { items: [], total: 0, ...page };
    const filter = { q: query.q?.toLowerCase(), initial: query.initial?.toLowerCase(), status: query.status, role: query.role };
    const found = await this.directory.search<MailboxRow>(domain, filter, query.offset, query.limit, MAILBOX_COLUMNS);
    return found && { items: found.rows.map(view), total: found.total, ...page };
  }

  async get(actor: Actor, key: string) {
    return view(await this.policy.mailbox(actor, key, 'user'));
  }

  async create(actor: Actor, ip: string | null, body: CreateMailboxDto) {
    const field = body.address ? 'address' : 'localPart';
    const role: MailboxRole = body.role ?? 'user';
    if (!canGrantRole(actor, role)) throw forbidden(`your role (${actor.role}) cannot grant the role ${role}`);
    let localPart: string;
    let domainRef: string;
    try {
      if (body.address) {
        const parsed = parseAddress(body.address);
        localPart = parsed.localPart;
        domainRef = parsed.domain;
      } else {
        localPart = normaliseLocalPart(body.localPart!);
        domainRef = body.domain!;
      }
    } catch (e) {
      if (e instanceof InvalidAddressError) throw badRequest(e.message, field);
      throw e;
    }
    // Fail fast on access before spending ~25 ms of CPU on argon2.
    await this.policy.domain(actor, domainRef, 'domain_admin');
    const generated = body.password === undefined ? generatePassword() : undefined;
    const passwordHash = await hashPassword(body.password ?? generated!);

    const mailbox = await this.dataSource.transaction(async (m) => {
      const domain = await this.policy.domain(actor, domainRef, 'domain_admin', m);
      const address = `${localPart}@${domain.name}`;
      const quotaBytes = body.quotaBytes ?? domain.mailboxDefaultQuotaBytes;
      assertWithinDomain(domain, quotaBytes, body.dailySendLimit ?? null);
      await assertAddressFree(m, address, field);
      await this.limits.assertCanAddMailboxes(m, domain.tenantId, domain.id, { count: 1, quotaBytes });
      const repo = m.getRepository(MailboxEntity);
      const created = repo.create({
        tenantId: domain.tenantId,
        domainId: domain.id,
        localPart,
        address,
        displayName: body.displayName ?? '',
        role,
        passwordHash,
        status: 'active',
        maySendOutside: body.maySendOutside ?? true,
        quotaBytes,
        usedBytes: 0,
        messageCount: 0,
        dailySendLimit: body.dailySendLimit ?? null,
        tokenVersion: 1,
      });
      try {
        await repo.insert(created);
      } catch (e) {
        if (e instanceof QueryFailedError && (e.driverError as { code?: string }).code === '23505') throw conflict(`${address} is already used by a mailbox`, field);
        throw e;
      }
      await this.audit.record(m, actor, ip, { action: 'mailbox.create', objectType: 'mailbox', objectId: created.id, tenantId: domain.tenantId, after: created });
      await requestWelcomeMail(m, [created.id]);
      return repo.findOneByOrFail({ id: created.id });
    });
    return { ...view(mailbox), ...(generated ? { password: generated } : {}) };
  }

  async update(actor: Actor, ip: string, key: string, body: UpdateMailboxDto) {
    let roleChanged: string | null = null;
    const updated = await this.dataSource.transaction(async (m) => {
      const mailbox = await this.loadManaged(actor, key, m);
      const before = { ...mailbox };
      const domain = await m.getRepository(DomainEntity).findOneByOrFail({ id: mailbox.domainId });
      if (body.role !== undefined && body.role !== mailbox.role) {
        if (actor.mailboxId === mailbox.id) throw badRequest('you cannot change your own role; ask another admin', 'role');
        if (!canGrantRole(actor, body.role)) throw forbidden(`your role (${actor.role}) cannot grant the role ${body.role}`);
      }
      assertWithinDomain(domain, body.quotaBytes ?? null, body.dailySendLimit ?? null);
      if (body.quotaBytes !== undefined) await this.limits.assertCanGrowQuota(m, mailbox.tenantId, mailbox.domainId, body.quotaBytes - mailbox.quotaBytes);
      const patch: Partial<MailboxEntity> = {};
      if (body.displayName !== undefined) patch.displayName = body.displayName;
      if (body.role !== undefined) patch.role = body.role;
      if (body.maySendOutside !== undefined) patch.maySendOutside = body.maySendOutside;
      if (body.quotaBytes !== undefined) patch.quotaBytes = body.quotaBytes;
      if (body.dailySendLimit !== undefined) patch.dailySendLimit = body.dailySendLimit;
      if (Object.keys(patch).length) await m.getRepository(MailboxEntity).update(mailbox.id, patch);
      // A new role must not ride on tokens issued for the old one.
      if (patch.role && patch.role !== before.role) {
        await endSessions(m, mailbox.id);
        roleChanged = mailbox.id;
      }
      const after = await m.getRepository(MailboxEntity).findOneByOrFail({ id: mailbox.id });
      await this.audit.record(m, actor, ip, { action: 'mailbox.update', objectType: 'mailbox', objectId: mailbox.id, tenantId: mailbox.tenantId, before, after });
      return view(after);
    });
    if (roleChanged) await this.sessionEnds.end([roleChanged]);
    return updated;
  }

  async remove(actor: Actor, ip: string, key: string): Promise<void> {
    await this.removeMany(actor, ip, { addresses: isUuid(key) ? [] : [key], ids: isUuid(key) ? [key] : [] });
  }

  /** All or nothing: one mailbox the actor may not delete and none is deleted. */
  async removeMany(actor: Actor, ip: string, body: BulkDeleteMailboxesDto) {
    const ids = [...new Set(body.ids ?? [])];
    const addresses = [...new Set((body.addresses ?? []).map(addressKey))];
    const result = await this.dataSource.transaction(async (m) => {
      const rows = await m
        .getRepository(MailboxEntity)
        .createQueryBuilder('m')
        .where('m.id = ANY(:ids) OR m.address = ANY(:addresses)', { ids, addresses })
        .setLock('pessimistic_write')
        .getMany();
      const byKey = new Map<string, MailboxEntity>();
      for (const r of rows) byKey.set(r.id, r).set(r.address, r);
      const targets = new Map<string, MailboxEntity>();
      for (const k of [...ids, ...addresses]) {
        const mailbox = byKey.get(k);
        if (!mailbox) throw notFound(`mailbox ${k}`);
        this.assertManage(actor, mailbox);
        if (actor.mailboxId === mailbox.id) throw badRequest('you cannot delete your own mailbox', ids.includes(k) ? 'ids' : 'addresses');
        targets.set(mailbox.id, mailbox);
      }
      const deleted = [...targets.keys()];
      await m.query(`UPDATE refresh_token SET revoked_at = now() WHERE revoked_at IS NULL AND subject_kind = 'mailbox' AND subject_id = ANY($1)`, [deleted]);
      await m.query(`DELETE FROM mailbox WHERE id = ANY($1)`, [deleted]);
      for (const mailbox of targets.values()) {
        await this.audit.record(m, actor, ip, { action: 'mailbox.delete', objectType: 'mailbox', objectId: mailbox.id, tenantId: mailbox.tenantId, before: mailbox });
      }
      return { deleted: deleted.length, ids: deleted };
    });
    await this.sessionEnds.end(result.ids);
    return result;
  }

  async setStatus(actor: Actor, ip: string, key: string, status: 'active' | 'suspended') {
    const result = await this.dataSource.transaction(async (m) => {
      const mailbox = await this.loadManaged(actor, key, m);
      if (status === 'suspended' && actor.mailboxId === mailbox.id) throw badRequest('you cannot suspend your own mailbox', 'mailbox');
      const before = { ...mailbox };
      await m.getRepository(MailboxEntity).update(mailbox.id, { status });
      if (status === 'suspended') await endSessions(m, mailbox.id);
      const after = await m.getRepository(MailboxEntity).findOneByOrFail({ id: mailbox.id });
      await this.audit.record(m, actor, ip, {
        action: status === 'suspended' ? 'mailbox.suspend' : 'mailbox.resume', objectType: 'mailbox', objectId: mailbox.id, tenantId: mailbox.tenantId, before, after,
      });
      return view(after);
    });
    // After the commit: a node that closes a session must find the mailbox suspended when the client reconnects.
    if (status === 'suspended') await this.sessionEnds.end([result.id]);
    return result;
  }

  /** Sets the given password, or a generated one (returned once); every session of the mailbox ends. */
  async setPassword(actor: Actor, ip: string, key: string, password?: string): Promise<{ password: string }> {
    await this.loadManaged(actor, key, this.dataSource.manager);
    const next = password ?? generatePassword();
    const hash = await hashPassword(next);
    const id = await this.dataSource.transaction(async (m) => {
      const mailbox = await this.loadManaged(actor, key, m);
      await m.query(`UPDATE mailbox SET password_hash = $2 WHERE id = $1`, [mailbox.id, hash]);
      await endSessions(m, mailbox.id);
      await this.audit.record(m, actor, ip, {
        action: password === undefined ? 'mailbox.password.reset' : 'mailbox.password.set', objectType: 'mailbox', objectId: mailbox.id, tenantId: mailbox.tenantId,
      });
      return mailbox.id;
    });
    await this.sessionEnds.end([id]);
    return { password: next };
  }

  /** A mailbox the actor administers: domain admin or above over it, and at least the mailbox's own role. */
  private async loadManaged(actor: Actor, key: string, m: EntityManager): Promise<MailboxEntity> {
    // Otherwise a domain admin could reset a tenant admin's password and sign in as them.
    return this.policy.manageableMailbox(actor, key, false, m);
  }

  private assertManage(actor: Actor, mailbox: MailboxEntity): void {
    this.policy.assertMayManageMailbox(actor, mailbox, false);
  }
}

/** Ends every session of a mailbox: access tokens by version, refresh tokens by revocation. */
async function endSessions(m: EntityManager, mailboxId: string): Promise<void> {
  await m.query(`UPDATE mailbox SET token_version = token_version + 1 WHERE id = $1`, [mailboxId]);
  await m.query(`UPDATE refresh_token SET revoked_at = now() WHERE revoked_at IS NULL AND subject_kind = 'mailbox' AND subject_id = $1`, [mailboxId]);
}

function assertWithinDomain(domain: DomainEntity, quotaBytes: number | null, dailySendLimit: number | null): void {
  if (quotaBytes !== null && domain.mailboxMaxQuotaBytes !== null && quotaBytes > domain.mailboxMaxQuotaBytes) {
    throw badRequest(`the quota of ${quotaBytes} bytes is over the domain's maximum of ${domain.mailboxMaxQuotaBytes} bytes per mailbox`, 'quotaBytes');
  }
  if (dailySendLimit !== null && domain.mailboxDailySendLimit !== null && dailySendLimit > domain.mailboxDailySendLimit) {
    throw badRequest(`the daily send limit of ${dailySendLimit} is over the domain's limit of ${domain.mailboxDailySendLimit} messages a day`, 'dailySendLimit');
  }
}

export function view(m: MailboxRow) {
  const quotaBytes = Number(m.quotaBytes);
  const usedBytes = Number(m.usedBytes);
  return {
    id: m.id,
    tenantId: m.tenantId,
    domainId: m.domainId,
    address: m.address,
    localPart: m.localPart,
    displayName: m.displayName,
    role: m.role,
    status: m.status,
    maySendOutside: m.maySendOutside,
    dailySendLimit: m.dailySendLimit,
    quotaBytes,
    usedBytes,
    messageCount: m.messageCount,
    usedPercent: quotaBytes > 0 ? Math.round((usedBytes * 1000) / quotaBytes) / 10 : 0,
    createdAt: new Date(m.createdAt).toISOString(),
    updatedAt: new Date(m.updatedAt).toISOString(),
  };
}
