import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@dizi/domain/policy';
import { forbidden } from '../../common/api-error';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { AuditService } from '../audit/audit.service';
import { DataSource } from 'typeorm';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/oidc')
export class SignInEventsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /**
   * The portal reports a finished OpenID Connect sign-in with the token it just received: the API never sees
   * the code exchange itself, and only a valid token of the issuer can write this record.
   */
  @Post('sign-in')
  @HttpCode(204)
  async signedIn(@CurrentActor() actor: Actor, @ClientIp() ip: string): Promise<void> {
    if (actor.kind !== 'oidc') throw forbidden('only OpenID Connect tokens report an OpenID Connect sign-in');
    await this.audit.record(this.dataSource.manager, actor, ip, { action: 'auth.oidc.login', objectType: 'oidc_subject', objectId: actor.id, tenantId: actor.tenantId ?? null });
  }
}
