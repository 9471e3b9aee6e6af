import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { CreateTransportRouteDto, QueueActionDto, QueueActionResultDto, QueueEntryDto, QueueListQueryDto, QueuePageDto, TransportRouteDto, TransportRouteListDto } from './dto';
import { QueueService } from './queue.service';

@ApiTags('queue')
@ApiBearerAuth()
@Controller('queue')
export class QueueController {
  constructor(private readonly queue: QueueService) {}

  /** Recipients still waiting (operators only), oldest first, with why each waits. */
  @Get()
  @ZodResponse({ status: 200, type: QueuePageDto })
  list(@CurrentActor() actor: Actor, @Query() query: QueueListQueryDto) {
    return this.queue.list(actor, query);
  }

  /** One action (retry, hold, release, delete) over up to 500 entries; each entry gets its outcome. */
  @Post('actions')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: QueueActionResultDto })
  act(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: QueueActionDto) {
    return this.queue.act(actor, ip, body);
  }

  /** One spooled recipient, final or not. */
  @Get(':recipientId')
  @ZodResponse({ status: 200, type: QueueEntryDto })
  get(@CurrentActor() actor: Actor, @Param('recipientId') recipientId: string) {
    return this.queue.get(actor, recipientId);
  }

  /** Try again now: the next sweep (within seconds) hands it to a worker. */
  @Post(':recipientId/retry')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: QueueEntryDto })
  retry(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('recipientId') recipientId: string) {
    return this.queue.retry(actor, ip, recipientId);
  }

  /** Stop trying this recipient until it is released; it stays in the queue. */
  @Post(':recipientId/hold')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: QueueEntryDto })
  hold(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('recipientId') recipientId: string) {
    return this.queue.hold(actor, ip, recipientId);
  }

  /** Release a held recipient: it is tried again at once. */
  @Post(':recipientId/release')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: QueueEntryDto })
  release(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('recipientId') recipientId: string) {
    return this.queue.release(actor, ip, recipientId);
  }

  /** Stop delivering to this recipient; no bounce is sent. */
  @Delete(':recipientId')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('recipientId') recipientId: string): Promise<void> {
    await this.queue.remove(actor, ip, recipientId);
  }
}

@ApiTags('queue')
@ApiBearerAuth()
@Controller('transport-routes')
export class TransportRoutesController {
  constructor(private readonly queue: QueueService) {}

  @Get()
  @ZodResponse({ status: 200, type: TransportRouteListDto })
  list(@CurrentActor() actor: Actor) {
    return this.queue.routes(actor);
  }

  /** Mail for `domain` goes to `host` instead of the domain's MX hosts. */
  @Post()
  @ZodResponse({ status: 201, type: TransportRouteDto })
  create(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateTransportRouteDto) {
    return this.queue.createRoute(actor, ip, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string): Promise<void> {
    await this.queue.removeRoute(actor, ip, id);
  }
}
