/** Bearer tokens from the operators' OpenID Connect issuer (Keycloak in production), verified against its JWKS. */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, JWTPayload, jwtVerify } from 'jose';
import { DataSource } from 'typeorm';
import type { ApiConfig } from '@dizi/config/api.config';
import type { Actor } from '@dizi/domain/policy';
import { Role } from '@dizi/domain/roles';
import { API_CONFIG } from '../../common/tokens';
import { isUuid } from './policy.service';

/**
 * Role names read from our client's roles only (`resource_access.<OIDC_CLIENT_ID>.roles`), most
 * powerful first. Realm-wide roles are not ours to read: a realm role named `operator` may mean
 * anything to another application of the same realm.
 */
const ROLE_NAMES: [Role, string][] = [
  ['operator', 'dizi-operator'],
  ['tenant_admin', 'dizi-tenant-admin'],
  ['domain_admin', 'dizi-domain-admin'],
];

interface KeycloakClaims extends JWTPayload {
  realm_access?: { roles?: string[] };
  resource_access?: Record<string, { roles?: string[] }>;
  preferred_username?: string;
  email?: string;
  [claim: string]: unknown;
}

@Injectable()
export class OidcService {
  private readonly logger = new Logger('oidc');
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private issuer?: string;

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly dataSource: DataSource,
  ) {}

  get enabled(): boolean {
    return !!this.config.OIDC_ISSUER;
  }

  /** Returns the actor, or null when the token is not valid for this installation. */
  async authenticate(token: string): Promise<Actor | null> {
    if (!this.enabled) return null;
    try {
      const jwks = await this.keySet();
      // The audience is always checked: without OIDC_AUDIENCE it is our client id, never "anyone".
      const { payload } = await jwtVerify<KeycloakClaims>(token, jwks, {
        issuer: this.issuer,
        audience: this.config.OIDC_AUDIENCE ?? this.config.OIDC_CLIENT_ID,
      });
      if (!this.issuedToUs(payload)) return null;
      const actor = this.toActor(payload);
      return actor && (await this.scopeIsLive(actor)) ? actor : null;
    } catch (e) {
      this.logger.debug(`OIDC token refused: ${(e as Error).message}`);
      return null;
    }
  }

  /**
   * The party the token was issued to (OIDC Core §2 `azp`, RFC 9068 `client_id`) must be our client:
   * a token another client of the issuer obtained for its own use is not a sign-in to Dizi, even
   * when it lists us among its audiences. Without either claim, a single audience must be ours.
   */
  private issuedToUs(claims: KeycloakClaims): boolean {
    const party = typeof claims.azp === 'string' ? claims.azp : typeof claims.client_id === 'string' ? claims.client_id : undefined;
    if (party !== undefined) return party === this.config.OIDC_CLIENT_ID;
    return !Array.isArray(claims.aud) || claims.aud.length === 1;
  }

  private toActor(claims: KeycloakClaims): Actor | null {
    const roles = new Set(claims.resource_access?.[this.config.OIDC_CLIENT_ID]?.roles ?? []);
    const role = ROLE_NAMES.find(([, name]) => roles.has(name))?.[0];
    if (!role || !claims.sub) return null;
    const tenantId = typeof claims[this.config.OIDC_TENANT_CLAIM] === 'string' ? (claims[this.config.OIDC_TENANT_CLAIM] as string) : undefined;
    const domainId = typeof claims.dizi_domain === 'string' ? claims.dizi_domain : undefined;
    // A tenant-scoped role without its tenant would see nothing, or worse: refuse the token instead.
    if (role !== 'operator' && !tenantId) return null;
    if (role === 'domain_admin' && !domainId) return null;
    const name = claims.preferred_username ?? claims.email ?? claims.sub;
    return { role, tenantId, domainId, kind: 'oidc', id: `oidc:${claims.sub}`, name };
  }

  /**
   * The issuer vouches for the person, not for our data: a tenant that is suspended or gone, or a
   * domain outside the claimed tenant, ends the access just as it does for mailbox sign-in.
   */
  private async scopeIsLive(actor: Actor): Promise<boolean> {
    if (actor.role === 'operator') return true;
    if (!isUuid(actor.tenantId)) return false;
    const [tenant] = await this.dataSource.query(`SELECT status FROM tenant WHERE id = $1`, [actor.tenantId]);
    if (tenant?.status !== 'active') return false;
    if (actor.domainId === undefined) return true;
    if (!isUuid(actor.domainId)) return false;
    const [domain] = await this.dataSource.query(`SELECT status FROM domain WHERE id = $1 AND tenant_id = $2`, [actor.domainId, actor.tenantId]);
    return domain?.status === 'active';
  }

  private async keySet() {
    if (!this.jwks) {
      const base = this.config.OIDC_ISSUER!.replace(/\/$/, '');
      const res = await fetch(`${base}/.well-known/openid-configuration`);
      if (!res.ok) throw new Error(`OIDC discovery failed: HTTP ${res.status}`);
      const meta = (await res.json()) as { issuer: string; jwks_uri: string };
      // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
      if (meta.issuer.replace(/\/$/, '') !== base) throw new Error(`OIDC discovery names issuer ${meta.issuer}, not ${base}`);
      this.issuer = meta.issuer;
      this.jwks = createRemoteJWKSet(new URL(meta.jwks_uri), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    }
    return this.jwks;
  }
}
