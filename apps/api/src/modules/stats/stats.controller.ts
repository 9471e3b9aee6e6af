import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { CurrentActor } from '../auth/actor.decorator';
import { DashboardDto, DashboardQueryDto } from './dto';
import { StatsService } from './stats.service';

@ApiTags('stats')
@ApiBearerAuth()
@Controller('stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  /** The operators' dashboard: mail per hour and day, refusals, queue, storage by tenant, top senders. Operators only. */
  @Get('dashboard')
  @ZodResponse({ status: 200, type: DashboardDto })
  dashboard(@CurrentActor() actor: Actor, @Query() query: DashboardQueryDto) {
    return this.stats.dashboard(actor, query);
  }
}
