import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { CurrentActor } from '../auth/actor.decorator';
import { MailLogPageDto, MailLogQueryDto } from './dto';
import { MailLogsService } from './mail-logs.service';

@ApiTags('logs')
@ApiBearerAuth()
@Controller('logs')
export class MailLogsController {
  constructor(private readonly logs: MailLogsService) {}

  /** SMTP sessions and delivery attempts, newest first. Operators see all; tenant admins their tenant's; domain admins their domain's deliveries, bounces and outbound attempts. */
  @Get('mail')
  @ZodResponse({ status: 200, type: MailLogPageDto })
  list(@CurrentActor() actor: Actor, @Query() query: MailLogQueryDto) {
    return this.logs.list(actor, query);
  }
}
