/** Writes the audit trail: who changed what, when, from where, with the object before and after. */
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditEventEntity } from '@dizi/db/entities/audit-event.entity';
import type { Actor } from '@dizi/domain/policy';

export interface AuditRecord {
  action: string;
  objectType: string;
  objectId?: string | null;
  tenantId?: string | null;
  before?: unknown;
  after?: unknown;
}

// Never written to the trail, whatever object they sit in.
const SECRET_FIELDS = new Set(['passwordHash', 'password', 'keyHash', 'dkimPrivateKey', 'privateKey', 'tokenHash', 'code']);

function redact(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (!SECRET_FIELDS.has(k)) out[k] = redact(v);
    return out;
  }
  return value;
}

@Injectable()
export class AuditService {
  /** Record inside the caller's transaction, so the trail and the change commit or fail together. */
  async record(manager: EntityManager, actor: Actor, ip: string | null, event: AuditRecord): Promise<void> {
    await manager.getRepository(AuditEventEntity).insert({
      actorKind: actor.kind,
      actorId: actor.id,
      actorName: actor.name,
      actorRole: actor.role,
      ip,
      tenantId: event.tenantId ?? null,
      action: event.action,
      objectType: event.objectType,
      objectId: event.objectId ?? null,
      before: redact(event.before) as object | null,
      after: redact(event.after) as object | null,
    });
  }
}
