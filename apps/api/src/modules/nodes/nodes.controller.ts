import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { CurrentActor } from '../auth/actor.decorator';
import { NodeListDto } from './dto';
import { NodesService } from './nodes.service';

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  /** Mail nodes that reported in the last day (operators only): roles, open connections, up or silent. */
  @Get()
  @ZodResponse({ status: 200, type: NodeListDto })
  list(@CurrentActor() actor: Actor) {
    return this.nodes.list(actor);
  }
}
