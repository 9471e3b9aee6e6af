import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditService } from '../audit/audit.service';
import { ApiKeyService } from './api-key.service';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { AuthenticationService } from './authentication.service';
import { LoginThrottleService } from './login-throttle.service';
import { OidcService } from './oidc.service';
import { PolicyService } from './policy.service';
import { SessionEndsService } from './session-ends.service';
import { SystemKeyService } from './system-key.service';
import { TokenService } from './token.service';

/** Sign-in, tokens, the policy service and the audit trail, available to every module. */
@Global()
@Module({
  controllers: [AuthController],
  providers: [
    AuthService, AuthenticationService, TokenService, OidcService, ApiKeyService, LoginThrottleService,
    PolicyService, SystemKeyService, AuditService, SessionEndsService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [PolicyService, AuditService, TokenService, SystemKeyService, ApiKeyService, LoginThrottleService, AuthenticationService, SessionEndsService],
})
export class AuthModule {}
