import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { antispamReportQuery, antispamReportView } from '@dizi/contracts/antispam.contract';
import type { Actor } from '@dizi/domain/policy';
import { CurrentActor } from '../auth/actor.decorator';
import { AntispamService } from './antispam.service';

class AntispamReportQueryDto extends createZodDto(antispamReportQuery) {}
class AntispamReportDto extends createZodDto(antispamReportView) {}

@ApiTags('antispam')
@ApiBearerAuth()
@Controller('antispam')
export class AntispamController {
  constructor(private readonly antispam: AntispamService) {}

  /** Operators: refusals by check (DNS list per zone, HELO, rDNS, greylisting, DMARC, spam score, virus), Junk and quarantine counts. */
  @Get('report')
  @ZodResponse({ status: 200, type: AntispamReportDto })
  report(@CurrentActor() actor: Actor, @Query() query: AntispamReportQueryDto) {
    return this.antispam.report(actor, query);
  }
}
