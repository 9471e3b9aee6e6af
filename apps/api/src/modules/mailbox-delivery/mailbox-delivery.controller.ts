import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { MailboxDeliveryDto, MailboxDeliverySettingsDto } from './dto';
import { MailboxDeliveryService } from './mailbox-delivery.service';

@ApiTags('mailboxes')
@ApiBearerAuth()
@Controller('mailboxes')
export class MailboxDeliveryController {
  constructor(private readonly delivery: MailboxDeliveryService) {}

  /** Forwarding and auto-reply of a mailbox (by id or address): its owner and its admins. */
  @Get(':mailbox/delivery')
  @ZodResponse({ status: 200, type: MailboxDeliveryDto })
  get(@CurrentActor() actor: Actor, @Param('mailbox') mailbox: string) {
    return this.delivery.get(actor, mailbox);
  }

  /** Replaces the settings; a field left out goes back to its default. */
  @Put(':mailbox/delivery')
  @ZodResponse({ status: 200, type: MailboxDeliveryDto })
  put(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') mailbox: string, @Body() body: MailboxDeliverySettingsDto) {
    return this.delivery.put(actor, ip, mailbox, body);
  }
}
