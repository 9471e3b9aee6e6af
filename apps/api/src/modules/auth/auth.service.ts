/** Mailbox and operator password sign-in, token refresh, sign-out and self-service password change. */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { MailboxLogin } from '@dizi/auth/mailbox-login';
import { hashPassword, needsRehash } from '@dizi/auth/password-hash';
import type { ApiConfig } from '@dizi/config/api.config';
import type { Actor } from '@dizi/domain/policy';
import { forbidden, tooManyRequests, unauthorized } from '../../common/api-error';
import { API_CONFIG } from '../../common/tokens';
import { AuditService } from '../audit/audit.service';
import { AuthenticationService } from './authentication.service';
import { LoginThrottleService } from './login-throttle.service';
import { SessionEndsService } from './session-ends.service';
import { TokenPair, TokenService } from './token.service';

const BAD_CREDENTIALS = 'wrong username or password, or the account is suspended';

export interface SignIn extends TokenPair {
  actor: Actor;
}

@Injectable()
export class AuthService {
  private readonly logger = new Logger('auth');
  private readonly mailboxes: MailboxLogin;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottleService,
    private readonly authentication: AuthenticationService,
    private readonly audit: AuditService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly sessionEnds: SessionEndsService,
  ) {
    this.mailboxes = new MailboxLogin(dataSource, throttle, {
      failureDelayMs: config.LOGIN_FAILURE_DELAY_MS,
      onUnreadableHash: (reason) => this.logger.warn(`stored password hash cannot be read: ${reason}`),
      cache: { ttlMs: config.AUTH_CACHE_TTL_SECONDS * 1000, maxEntries: config.AUTH_CACHE_SIZE },
    });
  }

  async mailboxLogin(username: string, password: string, ip: string): Promise<SignIn> {
    const outcome = await this.mailboxes.login(username, password, ip, 'api');
    if (!outcome.ok) {
      if (outcome.reason === 'throttled') throw tooManyRequests(`too many failed sign-ins; try again in ${Math.ceil(outcome.waitMs / 1000)} s`);
      if (outcome.reason === 'unpaid') throw forbidden('the account is suspended because its subscription is unpaid; contact your administrator or your provider');
      throw unauthorized(BAD_CREDENTIALS);
    }
    const actor = await this.authentication.mailboxActor(outcome.mailbox.mailboxId);
    if (!actor) throw unauthorized(BAD_CREDENTIALS);
    return { ...(await this.tokens.issue({ kind: 'mailbox', id: actor.id, tokenVersion: outcome.mailbox.tokenVersion })), actor };
  }

  async operatorLogin(username: string, password: string, ip: string): Promise<SignIn> {
    const account = `operator:${username.trim().toLowerCase()}`;
    await this.throttle.assertAllowed(account, ip);
    const [row] = await this.dataSource.query(
      `SELECT id, username, password_hash, status, token_version FROM operator_account WHERE username = $1`,
      [username.trim().toLowerCase()],
    );
    const ok = await this.checkPassword(password, row?.password_hash);
    if (!ok || row.status !== 'active') return this.fail(account, ip);
    await this.throttle.recordSuccess(account, ip);
    if (needsRehash(row.password_hash)) {
      await this.dataSource.query(`UPDATE operator_account SET password_hash = $2 WHERE id = $1`, [row.id, await hashPassword(password)]);
    }
    const actor: Actor = { role: 'operator', kind: 'operator-account', id: row.id, name: row.username };
    return { ...(await this.tokens.issue({ kind: 'operator-account', id: row.id, tokenVersion: row.token_version })), actor };
  }

  async refresh(refreshToken: string): Promise<SignIn> {
    return this.dataSource.transaction(async (manager) => {
      const spent = await this.tokens.spendRefresh(refreshToken, manager);
      let actor: Actor | null = null;
      let version: number | undefined;
      if (spent.subjectKind === 'mailbox') {
        actor = await this.authentication.mailboxActor(spent.subjectId, spent.tokenVersion);
        version = spent.tokenVersion;
      } else {
        const [op] = await manager.query(`SELECT id, username, status, token_version FROM operator_account WHERE id = $1`, [spent.subjectId]);
        if (op && op.status === 'active' && op.token_version === spent.tokenVersion) {
          actor = { role: 'operator', kind: 'operator-account', id: op.id, name: op.username };
          version = op.token_version;
        }
      }
      if (!actor || version === undefined) throw unauthorized('the session has ended (password changed or account suspended); sign in again');
      return { ...(await this.tokens.issue({ kind: spent.subjectKind, id: spent.subjectId, tokenVersion: version }, manager)), actor };
    });
  }

  /** Revokes the refresh token and the access token issued with it, and the bearer token sent along if any. */
  async logout(refreshToken: string, authorization?: string): Promise<void> {
    await this.tokens.revokeRefresh(refreshToken);
    const bearer = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1]?.trim();
    if (bearer && this.tokens.isOwnToken(bearer)) {
      const claims = await this.tokens.verifyAccess(bearer);
      if (claims?.sid) await this.tokens.revokeSessions([claims.sid]);
    }
  }

  /** Own password change: every existing token of the account stops working. */
  async changePassword(actor: Actor, current: string, next: string, ip: string): Promise<void> {
    const table = actor.kind === 'mailbox' ? 'mailbox' : actor.kind === 'operator-account' ? 'operator_account' : null;
    if (!table) throw unauthorized('only mailbox and local operator accounts have a password here');
    const account = actor.kind === 'mailbox' ? actor.name : `operator:${actor.name}`;
    await this.throttle.assertAllowed(account, ip);
    const [row] = await this.dataSource.query(`SELECT password_hash FROM ${table} WHERE id = $1`, [actor.id]);
    if (!(await this.checkPassword(current, row?.password_hash))) return this.fail(account, ip, 'the current password is wrong');
    const hash = await hashPassword(next);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`UPDATE ${table} SET password_hash = $2, token_version = token_version + 1, updated_at = now() WHERE id = $1`, [actor.id, hash]);
      await this.tokens.revokeAll(actor.kind === 'mailbox' ? 'mailbox' : 'operator-account', actor.id, manager);
      await this.audit.record(manager, actor, ip, { action: 'password.change', objectType: table, objectId: actor.id, tenantId: actor.tenantId ?? null });
    });
    // The mail protocols' sessions too: whoever knew the old password may be signed in with it.
    if (actor.kind === 'mailbox') await this.sessionEnds.end([actor.id]);
  }

  private checkPassword(password: string, stored: string | undefined): Promise<boolean> {
    return this.mailboxes.checkPassword(password, stored);
  }

  private async fail(account: string, ip: string, message = BAD_CREDENTIALS): Promise<never> {
    await this.throttle.recordFailure(account, ip);
    await sleep(this.config.LOGIN_FAILURE_DELAY_MS);
    throw unauthorized(message);
  }
}
