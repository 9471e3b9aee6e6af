/** API keys for machines: shown once, stored as SHA-256, looked up by their public prefix. */
import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiKeyEntity } from '@dizi/db/entities/identity.entity';
import type { Actor } from '@dizi/domain/policy';

const KEY_FORMAT = /^dzk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

@Injectable()
export class ApiKeyService {
  constructor(private readonly dataSource: DataSource) {}

  static looksLikeKey(token: string): boolean {
    return token.startsWith('dzk_');
  }

  /** Makes a new secret; returns what to store and the key to show once. */
  static mint(): { prefix: string; key: string; hash: Buffer } {
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
    const bytes = randomBytes(12);
    const prefix = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
    const secret = randomBytes(32).toString('base64url');
    const key = `dzk_${prefix}_${secret}`;
    return { prefix, key, hash: createHash('sha256').update(key).digest() };
  }

  async authenticate(key: string): Promise<Actor | null> {
    const m = KEY_FORMAT.exec(key);
    if (!m) return null;
    const row = await this.dataSource
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .addSelect('k.keyHash')
      .where('k.prefix = :prefix', { prefix: m[1] })
      .getOne();
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt < new Date())) return null;
    const hash = createHash('sha256').update(key).digest();
    if (!timingSafeEqual(hash, row.keyHash)) return null;
    if (row.tenantId) {
      const [tenant] = await this.dataSource.query('SELECT status FROM tenant WHERE id = $1', [row.tenantId]);
      if (!tenant || tenant.status !== 'active') return null;
    }
    // Coarse by design: last use is for operators to spot unused keys, not an audit trail.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      void this.dataSource.getRepository(ApiKeyEntity).update(row.id, { lastUsedAt: new Date() }).catch(() => undefined);
    }
    return { role: row.role, tenantId: row.tenantId ?? undefined, kind: 'api-key', id: row.id, name: `api-key:${row.name}` };
  }
}
