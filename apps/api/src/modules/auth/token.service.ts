/** Access tokens (short-lived JWTs signed with the installation's Ed25519 key) and rotating refresh tokens. */
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import Redis from 'ioredis';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import type { ApiConfig } from '@dizi/config/api.config';
import { RefreshTokenEntity, SubjectKind } from '@dizi/db/entities/identity.entity';
import { unauthorized } from '../../common/api-error';
import { API_CONFIG, REDIS } from '../../common/tokens';
import { SystemKeyService } from './system-key.service';

export const TOKEN_ISSUER = 'dizi';
const AUDIENCE = 'dizi-api';

export interface Subject {
  kind: SubjectKind;
  id: string;
  tokenVersion: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface AccessClaims {
  kind: SubjectKind;
  sub: string;
  tv: number;
  /** The refresh token issued with this access token: signing out with it revokes both. */
  sid?: string;
}

/** Redis key marking an access token's session as ended (sign-out) until the token would expire anyway. */
const revokedSessionKey = (sid: string) => `auth:revoked-session:${sid}`;

const sha256 = (s: string) => createHash('sha256').update(s).digest();

@Injectable()
export class TokenService {
  constructor(
    private readonly keys: SystemKeyService,
    private readonly dataSource: DataSource,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async issue(subject: Subject, manager: EntityManager = this.dataSource.manager): Promise<TokenPair> {
    const { privateKey } = await this.keys.get('access-token');
    const ttl = this.config.ACCESS_TOKEN_TTL_SECONDS;
    const refreshToken = `dzr_${randomBytes(32).toString('base64url')}`;
    const sid = randomUUID();
    await manager.getRepository(RefreshTokenEntity).insert({
      id: sid,
      subjectKind: subject.kind,
      subjectId: subject.id,
      tokenHash: sha256(refreshToken),
      tokenVersion: subject.tokenVersion,
      expiresAt: new Date(Date.now() + this.config.REFRESH_TOKEN_TTL_SECONDS * 1000),
    });
    const accessToken = await new SignJWT({ kind: subject.kind, tv: subject.tokenVersion, sid })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(subject.id)
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .sign(privateKey);
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: ttl };
  }

  /** Verifies signature, issuer, audience and expiry; the caller checks the subject's token version. */
  async verifyAccess(token: string): Promise<AccessClaims | null> {
    const { publicKey } = await this.keys.get('access-token');
    try {
      const { payload } = await jwtVerify(token, publicKey, { issuer: TOKEN_ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'] });
      if (typeof payload.sub !== 'string' || typeof payload.tv !== 'number') return null;
      if (payload.kind !== 'mailbox' && payload.kind !== 'operator-account') return null;
      const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
      if (sid && (await this.sessionRevoked(sid))) return null;
      return { kind: payload.kind, sub: payload.sub, tv: payload.tv, sid };
    } catch {
      return null;
    }
  }

  /** Ends the access tokens of these sessions now rather than at their expiry (sign-out). */
  async revokeSessions(sids: string[]): Promise<void> {
    for (const sid of sids) await this.redis.set(revokedSessionKey(sid), '1', 'EX', this.config.ACCESS_TOKEN_TTL_SECONDS);
  }

  private async sessionRevoked(sid: string): Promise<boolean> {
    try {
      return (await this.redis.exists(revokedSessionKey(sid))) === 1;
    } catch {
      // Redis down: the token's version (checked in PostgreSQL) still ends it on suspension and password changes.
      return false;
    }
  }

  /** Is this token one of ours (as opposed to an OIDC issuer's)? Reads the unverified issuer only to route it. */
  isOwnToken(token: string): boolean {
    const part = token.split('.')[1];
    if (!part) return false;
    try {
      return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')).iss === TOKEN_ISSUER;
    } catch {
      return false;
    }
  }

  /**
   * Spends a refresh token: returns its subject and revokes it, in one statement so two racing
   * requests cannot both spend it. Presenting an already-spent token revokes the whole family
   * of that subject (someone replayed a stolen token).
   */
  async spendRefresh(refreshToken: string, manager: EntityManager): Promise<RefreshTokenEntity> {
    const hash = sha256(refreshToken);
    // Wrapped in a SELECT: TypeORM answers a bare UPDATE ... RETURNING with [rows, count], not rows.
    const rows: RefreshTokenEntity[] = await manager.query(
      `WITH spent AS (
         UPDATE refresh_token SET revoked_at = now()
          WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
          RETURNING id, subject_kind, subject_id, token_version)
       SELECT id, subject_kind AS "subjectKind", subject_id AS "subjectId", token_version AS "tokenVersion" FROM spent`,
      [hash],
    );
    const spent = rows[0];
    if (spent) return spent;
    const old = await manager.getRepository(RefreshTokenEntity).findOneBy({ tokenHash: hash });
    // Outside the caller's transaction: the refusal below rolls that back, and the family must stay revoked.
    if (old?.revokedAt) {
      await this.revokeAll(old.subjectKind, old.subjectId, this.dataSource.manager);
      // A replay means the token was stolen: the access tokens already out end too, not in 15 minutes.
      const table = old.subjectKind === 'mailbox' ? 'mailbox' : 'operator_account';
      await this.dataSource.query(`UPDATE ${table} SET token_version = token_version + 1 WHERE id = $1`, [old.subjectId]);
    }
    throw unauthorized('the refresh token is invalid, expired or already used; sign in again');
  }

  /** Sign-out: the refresh token, and the access token issued with it, stop working. */
  async revokeRefresh(refreshToken: string): Promise<void> {
    const row = await this.dataSource.getRepository(RefreshTokenEntity).findOneBy({ tokenHash: sha256(refreshToken) });
    if (!row) return;
    // Deleted, not marked revoked: presenting it again is a stale client, not the replay of a stolen
    // token that would end every session of the account (spendRefresh).
    await this.dataSource.getRepository(RefreshTokenEntity).delete({ id: row.id });
    await this.revokeSessions([row.id]);
  }

  async revokeAll(kind: SubjectKind, subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.getRepository(RefreshTokenEntity).update({ subjectKind: kind, subjectId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }
}
