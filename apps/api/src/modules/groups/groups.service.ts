import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { MailGroupEntity } from '@dizi/db/entities/mail-group.entity';
import { InvalidAddressError, normaliseAddressPattern, parseAddress } from '@dizi/domain/address';
import type { PostingPolicy } from '@dizi/domain/group-posting';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, forbidden, notFound } from '../../common/api-error';
import { assertAddressFree } from '../../common/address-ownership';
import { AuditService } from '../audit/audit.service';
import { addressKey, isUuid, PolicyService } from '../auth/policy.service';
import { escapeLike } from '@dizi/db/escape-like';
import { CreateGroupDto, GroupListQueryDto, GroupMemberQueryDto, UpdateGroupDto } from './dto';

@Injectable()
export class GroupsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
  ) {}

  async list(actor: Actor, query: GroupListQueryDto) {
    const scope = this.policy.listScope(actor);
    const qb = this.dataSource.getRepository(MailGroupEntity).createQueryBuilder('g');
    if (scope.tenantId) qb.andWhere('g.tenant_id = :tenantId', { tenantId: scope.tenantId });
    if (scope.domainId) qb.andWhere('g.domain_id = :domainId', { domainId: scope.domainId });
    if (query.domain) {
      const domain = await this.policy.domain(actor, query.domain, 'domain_admin');
      qb.andWhere('g.domain_id = :qDomain', { qDomain: domain.id });
    }
    // After the domain filter: a domain the actor cannot see answers 404, whatever the role.
    if (actor.role === 'user') throw forbidden('users do not manage groups');
    if (query.q) qb.andWhere('(g.address ILIKE :q OR g.name ILIKE :q)', { q: `%${escapeLike(query.q.toLowerCase())}%` });
    const [rows, total] = await qb.orderBy('g.address').offset(query.offset).limit(query.limit).getManyAndCount();
    const counts = await memberCounts(this.dataSource.manager, rows.map((g) => g.id));
    return { items: rows.map((g) => view(g, counts.get(g.id) ?? 0)), total, offset: query.offset, limit: query.limit };
  }

  async get(actor: Actor, idOrAddress: string) {
    const group = await this.load(actor, idOrAddress, this.dataSource.manager);
    return view(group, (await memberCounts(this.dataSource.manager, [group.id])).get(group.id) ?? 0);
  }

  async create(actor: Actor, ip: string, body: CreateGroupDto) {
    const parsed = groupAddress(body.address);
    return this.dataSource.transaction(async (m) => {
      const domain = await this.policy.domain(actor, parsed.domain, 'domain_admin', m);
      const address = `${parsed.localPart}@${domain.name}`;
      const postingPolicy: PostingPolicy = body.postingPolicy ?? 'members';
      const allowedSenders = patterns(body.allowedSenders ?? [], 'allowedSenders');
      assertSendersFitPolicy(postingPolicy, allowedSenders);
      const members = memberPatterns(body.members ?? [], address);
      await assertAddressFree(m, address);
      const repo = m.getRepository(MailGroupEntity);
      const group = await repo.save(
        repo.create({
          tenantId: domain.tenantId, domainId: domain.id, localPart: parsed.localPart, address,
          name: body.name ?? '', description: body.description ?? '', postingPolicy, allowedSenders,
          keepCopy: body.keepCopy ?? false, rewriteRecipient: body.rewriteRecipient ?? false,
        }),
      );
      await addMembers(m, group.id, members);
      await this.audit.record(m, actor, ip, { action: 'group.create', objectType: 'group', objectId: group.id, tenantId: group.tenantId, after: { ...group, members } });
      return view(group, members.length);
    });
  }

  async update(actor: Actor, ip: string, idOrAddress: string, body: UpdateGroupDto) {
    return this.dataSource.transaction(async (m) => {
      const group = await this.load(actor, idOrAddress, m, true);
      const before = { ...group };
      const { allowedSenders, ...rest } = body;
      Object.assign(group, rest);
      if (allowedSenders) group.allowedSenders = patterns(allowedSenders, 'allowedSenders');
      assertSendersFitPolicy(group.postingPolicy, group.allowedSenders);
      await m.getRepository(MailGroupEntity).save(group);
      await this.audit.record(m, actor, ip, { action: 'group.update', objectType: 'group', objectId: group.id, tenantId: group.tenantId, before, after: group });
      return view(group, (await memberCounts(m, [group.id])).get(group.id) ?? 0);
    });
  }

  async remove(actor: Actor, ip: string, idOrAddress: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const group = await this.load(actor, idOrAddress, m, true);
      const members = await currentMembers(m, group.id);
      await m.getRepository(MailGroupEntity).delete(group.id);
      await this.audit.record(m, actor, ip, { action: 'group.delete', objectType: 'group', objectId: group.id, tenantId: group.tenantId, before: { ...group, members } });
    });
  }

  async members(actor: Actor, idOrAddress: string, query: GroupMemberQueryDto) {
    const m = this.dataSource.manager;
    const group = await this.load(actor, idOrAddress, m);
    const rows: { member: string }[] = await m.query(
      `SELECT member FROM mail_group_member WHERE group_id = $1 ORDER BY member OFFSET $2 LIMIT $3`,
      [group.id, query.offset, query.limit],
    );
    const total = (await memberCounts(m, [group.id])).get(group.id) ?? 0;
    return { items: rows.map((r) => r.member), total, offset: query.offset, limit: query.limit };
  }

  /** Adds members; those already in the group are left as they are. */
  async addMembers(actor: Actor, ip: string, idOrAddress: string, input: string[]) {
    return this.changeMembers(actor, ip, idOrAddress, 'group.members.add', async (m, group) => {
      const added = await addMembers(m, group.id, memberPatterns(input, group.address));
      return { added, removed: [] };
    });
  }

  /** Removes members; those not in the group are ignored. */
  async removeMembers(actor: Actor, ip: string, idOrAddress: string, input: string[]) {
    return this.changeMembers(actor, ip, idOrAddress, 'group.members.remove', async (m, group) => {
      const removed = await removeMembers(m, group.id, patterns(input, 'members'));
      return { added: [], removed };
    });
  }

  /** Makes the member list exactly `input`. */
  async replaceMembers(actor: Actor, ip: string, idOrAddress: string, input: string[]) {
    return this.changeMembers(actor, ip, idOrAddress, 'group.members.replace', async (m, group) => {
      const wanted = memberPatterns(input, group.address);
      const keep = new Set(wanted);
      const removed = await removeMembers(m, group.id, (await currentMembers(m, group.id)).filter((x) => !keep.has(x)));
      const added = await addMembers(m, group.id, wanted);
      return { added, removed };
    });
  }

  private async changeMembers(
    actor: Actor,
    ip: string,
    idOrAddress: string,
    action: string,
    change: (m: EntityManager, group: MailGroupEntity) => Promise<{ added: string[]; removed: string[] }>,
  ) {
    return this.dataSource.transaction(async (m) => {
      // The row lock makes concurrent member changes of one group take turns.
      const group = await this.load(actor, idOrAddress, m, true);
      const { added, removed } = await change(m, group);
      const memberCount = (await memberCounts(m, [group.id])).get(group.id) ?? 0;
      await this.audit.record(m, actor, ip, { action, objectType: 'group', objectId: group.id, tenantId: group.tenantId, after: { added, removed, memberCount } });
      return { added: added.length, removed: removed.length, memberCount };
    });
  }

  /** By id or by address; 404 for groups the actor cannot see. */
  private async load(actor: Actor, idOrAddress: string, m: EntityManager, forUpdate = false): Promise<MailGroupEntity> {
    const where = isUuid(idOrAddress) ? { id: idOrAddress } : { address: addressKey(idOrAddress) };
    const group = await m.getRepository(MailGroupEntity).findOne({ where, ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!group) throw notFound('group');
    this.policy.checkDomainObject(actor, group, 'domain_admin', 'group');
    return group;
  }
}

function groupAddress(input: string) {
  let parsed;
  try {
    parsed = parseAddress(input);
  } catch (e) {
    if (e instanceof InvalidAddressError) throw badRequest(e.message, 'address');
    throw e;
  }
  if (parsed.localPart.includes('*')) throw badRequest(`"${input}": a group address cannot hold *`, 'address');
  return parsed;
}

/** Normalised, deduplicated address patterns; a bad one is named by its index. */
function patterns(list: string[], field: string): string[] {
  const out = new Set<string>();
  list.forEach((input, i) => {
    try {
      out.add(normaliseAddressPattern(input));
    } catch (e) {
      if (e instanceof InvalidAddressError) throw badRequest(e.message, `${field}.${i}`);
      throw e;
    }
  });
  return [...out];
}

function memberPatterns(list: string[], groupAddress: string): string[] {
  const out = patterns(list, 'members');
  if (out.includes(groupAddress)) {
    const at = list.findIndex((x) => normaliseAddressPattern(x) === groupAddress);
    throw badRequest(`the group ${groupAddress} cannot be its own member; it would deliver to itself`, `members.${at}`);
  }
  return out;
}

function assertSendersFitPolicy(policy: PostingPolicy, allowedSenders: string[]): void {
  if (policy === 'listed' && allowedSenders.length === 0) {
    throw badRequest('the listed posting policy needs at least one allowed sender; fill allowedSenders or pick another policy', 'allowedSenders');
  }
}

async function addMembers(m: EntityManager, groupId: string, members: string[]): Promise<string[]> {
  if (!members.length) return [];
  const rows: { member: string }[] = await m.query(
    `INSERT INTO mail_group_member (group_id, member) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING member`,
    [groupId, members],
  );
  return rows.map((r) => r.member);
}

async function removeMembers(m: EntityManager, groupId: string, members: string[]): Promise<string[]> {
  if (!members.length) return [];
  const [rows] = await m.query(`DELETE FROM mail_group_member WHERE group_id = $1 AND member = ANY($2::text[]) RETURNING member`, [groupId, members]);
  return (rows as { member: string }[]).map((r) => r.member);
}

async function currentMembers(m: EntityManager, groupId: string): Promise<string[]> {
  const rows: { member: string }[] = await m.query(`SELECT member FROM mail_group_member WHERE group_id = $1 ORDER BY member`, [groupId]);
  return rows.map((r) => r.member);
}

async function memberCounts(m: EntityManager, ids: string[]): Promise<Map<string, number>> {
  if (!ids.length) return new Map();
  const rows: { group_id: string; n: number }[] = await m.query(
    `SELECT group_id, count(*)::int AS n FROM mail_group_member WHERE group_id = ANY($1) GROUP BY group_id`,
    [ids],
  );
  return new Map(rows.map((r) => [r.group_id, r.n]));
}

export function view(g: MailGroupEntity, memberCount: number) {
  return {
    id: g.id,
    tenantId: g.tenantId,
    domainId: g.domainId,
    address: g.address,
    name: g.name,
    description: g.description,
    postingPolicy: g.postingPolicy,
    allowedSenders: g.allowedSenders,
    keepCopy: g.keepCopy,
    rewriteRecipient: g.rewriteRecipient,
    memberCount,
    createdAt: g.createdAt.toISOString(),
    updatedAt: g.updatedAt.toISOString(),
  };
}
