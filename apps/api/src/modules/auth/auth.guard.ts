import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { unauthorized } from '../../common/api-error';
import { ActorRequest, PUBLIC_ROUTE } from './actor.decorator';
import { AuthenticationService } from './authentication.service';

/** Global guard: every route needs a signed-in actor unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authentication: AuthenticationService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<ActorRequest>();
    const actor = await this.authentication.authenticate(req.headers);
    if (!actor) throw unauthorized('a valid bearer token or API key is required');
    req.actor = actor;
    return true;
  }
}
