import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditQueryService } from './audit-query.service';

/** Reading the audit trail. Writing it is AuditService, provided by the global AuthModule. */
@Module({ controllers: [AuditController], providers: [AuditQueryService] })
export class AuditModule {}
