/** Turns the credentials on a request (our bearer token, an OIDC token or an API key) into an Actor. */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor } from '@dizi/domain/policy';
import { ApiKeyService } from './api-key.service';
import { OidcService } from './oidc.service';
import { TokenService } from './token.service';

@Injectable()
export class AuthenticationService {
  constructor(
    private readonly tokens: TokenService,
    private readonly oidc: OidcService,
    private readonly apiKeys: ApiKeyService,
    private readonly dataSource: DataSource,
  ) {}

  async authenticate(headers: Record<string, string | string[] | undefined>): Promise<Actor | null> {
    const apiKeyHeader = headers['x-api-key'];
    if (typeof apiKeyHeader === 'string') return this.apiKeys.authenticate(apiKeyHeader);
    const auth = headers.authorization;
    if (typeof auth !== 'string' || !/^Bearer /i.test(auth)) return null;
    const token = auth.slice(7).trim();
    if (ApiKeyService.looksLikeKey(token)) return this.apiKeys.authenticate(token);
    if (this.tokens.isOwnToken(token)) return this.fromOwnToken(token);
    return this.oidc.authenticate(token);
  }

  private async fromOwnToken(token: string): Promise<Actor | null> {
    const claims = await this.tokens.verifyAccess(token);
    if (!claims) return null;
    if (claims.kind === 'operator-account') {
      const [op] = await this.dataSource.query(`SELECT id, username, status, token_version FROM operator_account WHERE id = $1`, [claims.sub]);
      if (!op || op.status !== 'active' || op.token_version !== claims.tv) return null;
      return { role: 'operator', kind: 'operator-account', id: op.id, name: op.username };
    }
    return this.mailboxActor(claims.sub, claims.tv);
  }

  /** A mailbox acts only while it, its domain and its tenant are active and its token version matches. */
  async mailboxActor(mailboxId: string, tokenVersion?: number): Promise<Actor | null> {
    const [m] = await this.dataSource.query(
      `SELECT m.id, m.address, m.role, m.tenant_id, m.domain_id, m.token_version
         FROM mailbox m JOIN domain d ON d.id = m.domain_id JOIN tenant t ON t.id = m.tenant_id
        WHERE m.id = $1 AND m.status = 'active' AND d.status = 'active' AND t.status = 'active'`,
      [mailboxId],
    );
    if (!m || (tokenVersion !== undefined && m.token_version !== tokenVersion)) return null;
    return { role: m.role, tenantId: m.tenant_id, domainId: m.domain_id, mailboxId: m.id, kind: 'mailbox', id: m.id, name: m.address };
  }
}
