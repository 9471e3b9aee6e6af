import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Response } from 'express';
import type { Actor } from '@dizi/domain/policy';
import { CurrentActor } from '../auth/actor.decorator';
import { DashboardDto, DashboardQueryDto } from './dto';
import { StatsService } from './stats.service';

@ApiTags('stats')
@ApiBearerAuth()
@Controller('stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  /**
   * The operators' dashboard: mail per hour and day, refusals, queue, storage by tenant, top senders. Operators only.
   * The Server-Timing header gives each chart's query time.
   */
  @Get('dashboard')
  @ZodResponse({ status: 200, type: DashboardDto })
  async dashboard(@CurrentActor() actor: Actor, @Query() query: DashboardQueryDto, @Res({ passthrough: true }) res: Response) {
    const { view, timings } = await this.stats.dashboard(actor, query);
    res.setHeader('server-timing', Object.entries(timings).map(([name, ms]) => `${name};dur=${ms.toFixed(1)}`).join(', '));
    return view;
  }
}
