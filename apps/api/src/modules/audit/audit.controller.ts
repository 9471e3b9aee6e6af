import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { CurrentActor } from '../auth/actor.decorator';
import { AuditQueryService } from './audit-query.service';
import { AuditListQueryDto, AuditPageDto } from './dto';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditQueryService) {}

  /** Newest first. Operators see every event; tenant admins their tenant's. */
  @Get()
  @ZodResponse({ status: 200, type: AuditPageDto })
  list(@CurrentActor() actor: Actor, @Query() query: AuditListQueryDto) {
    return this.audit.list(actor, query);
  }
}
