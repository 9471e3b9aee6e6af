import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { GrantSendAsDto, SendAsIdentityDto, SendAsListDto } from './dto';
import { MailboxSendAsService } from './mailbox-send-as.service';

@ApiTags('mailboxes')
@ApiBearerAuth()
@Controller('mailboxes')
export class MailboxSendAsController {
  constructor(private readonly sendAs: MailboxSendAsService) {}

  /** The addresses a mailbox (by id or address) may send as besides its own and its aliases: its owner and its admins. */
  @Get(':mailbox/send-as')
  @ZodResponse({ status: 200, type: SendAsListDto })
  list(@CurrentActor() actor: Actor, @Param('mailbox') mailbox: string) {
    return this.sendAs.list(actor, mailbox);
  }

  /** Grants one: domain admins of both the mailbox and the address. */
  @Post(':mailbox/send-as')
  @ZodResponse({ status: 201, type: SendAsIdentityDto })
  grant(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') mailbox: string, @Body() body: GrantSendAsDto) {
    return this.sendAs.grant(actor, ip, mailbox, body);
  }

  @Delete(':mailbox/send-as/:address')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'revoked' })
  async revoke(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') mailbox: string, @Param('address') address: string): Promise<void> {
    await this.sendAs.revoke(actor, ip, mailbox, address);
  }
}
