import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { SignInAuditInterceptor } from './sign-in-audit.interceptor';
import { SignInEventsController } from './sign-in-events.controller';

/** Sign-ins and refused sign-ins in the audit trail (password sign-in through the interceptor, OIDC reported by the portal). */
@Module({ controllers: [SignInEventsController], providers: [{ provide: APP_INTERCEPTOR, useClass: SignInAuditInterceptor }] })
export class SignInAuditModule {}
