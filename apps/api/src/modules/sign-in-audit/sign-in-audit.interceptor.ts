/**
 * Writes every password sign-in, and every refused one, to the audit trail. An interceptor around the
 * two sign-in routes rather than code in AuthService: the outcome (tokens issued, or the error with its
 * status) is exactly what is known at this boundary, and the sign-in code stays about credentials.
 */
import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { catchError, from, mergeMap, Observable, throwError } from 'rxjs';
import { DataSource } from 'typeorm';
import type { Actor } from '@dizi/domain/policy';
import { ApiError } from '../../common/api-error';
import type { ActorRequest } from '../auth/actor.decorator';
import { AuditService } from '../audit/audit.service';
import { AuthController } from '../auth/auth.controller';

/** Handler name on AuthController → whose account the attempt was for. */
const SIGN_IN_HANDLERS: Record<string, 'mailbox' | 'operator-account'> = { login: 'mailbox', operatorLogin: 'operator-account' };
const MAX_NAME = 320;

@Injectable()
export class SignInAuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('sign-in-audit');

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const kind = ctx.getClass() === AuthController ? SIGN_IN_HANDLERS[ctx.getHandler().name] : undefined;
    if (!kind) return next.handle();
    const req = ctx.switchToHttp().getRequest<ActorRequest & { body?: { username?: unknown } }>();
    const ip = req.ip ?? null;
    const username = typeof req.body?.username === 'string' ? req.body.username.trim().toLowerCase().slice(0, MAX_NAME) : '';
    return next.handle().pipe(
      mergeMap((result) => from(this.succeeded((result as { actor: Actor }).actor, ip).then(() => result))),
      catchError((err: unknown) => from(this.failed(kind, username, ip, err)).pipe(mergeMap(() => throwError(() => err)))),
    );
  }

  private async succeeded(actor: Actor, ip: string | null): Promise<void> {
    await this.write(actor, ip, { action: 'auth.login', objectType: actor.kind === 'mailbox' ? 'mailbox' : 'operator_account', objectId: actor.id, tenantId: actor.tenantId ?? null });
  }

  /**
   * A refused attempt has no actor: the trail names the account that was tried, and for an address the
   * tenant owning its domain, so that tenant's admins see attacks on their mailboxes.
   */
  private async failed(kind: 'mailbox' | 'operator-account', username: string, ip: string | null, err: unknown): Promise<void> {
    const status = err instanceof ApiError ? err.status : 500;
    const reason = status === 429 ? 'throttled' : status === 401 ? 'bad credentials' : status === 400 ? 'malformed request' : 'error';
    let tenantId: string | null = null;
    if (kind === 'mailbox' && username.includes('@')) {
      const [row] = await this.dataSource.query(`SELECT tenant_id FROM domain WHERE name = $1`, [username.slice(username.lastIndexOf('@') + 1)]);
      tenantId = row?.tenant_id ?? null;
    }
    const tried: Actor = kind === 'mailbox' ? { role: 'user', kind: 'mailbox', id: username, name: username } : { role: 'operator', kind: 'operator-account', id: `operator:${username}`, name: username };
    await this.write(tried, ip, { action: 'auth.login.failed', objectType: kind === 'mailbox' ? 'mailbox' : 'operator_account', objectId: null, tenantId, after: { reason, status } });
  }

  // The sign-in already happened (or was refused): a trail that cannot be written is logged, never turned into a different reply.
  private async write(actor: Actor, ip: string | null, event: Parameters<AuditService['record']>[3]): Promise<void> {
    try {
      await this.audit.record(this.dataSource.manager, actor, ip, event);
    } catch (e) {
      this.logger.error(`sign-in audit record failed: ${(e as Error).message}`);
    }
  }
}
