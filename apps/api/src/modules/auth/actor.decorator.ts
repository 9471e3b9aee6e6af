import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Actor } from '@dizi/domain/policy';

export const PUBLIC_ROUTE = 'dizi:public';
/** The route needs no sign-in (login, refresh, health, docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export interface ActorRequest {
  actor?: Actor;
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The signed-in actor, resolved by AuthGuard. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<ActorRequest>().actor;
  if (!actor) throw new Error('CurrentActor used on a public route');
  return actor;
});

/** Client address for audit records and throttling. */
export const ClientIp = createParamDecorator((_: unknown, ctx: ExecutionContext): string => ctx.switchToHttp().getRequest<ActorRequest>().ip ?? 'unknown');
