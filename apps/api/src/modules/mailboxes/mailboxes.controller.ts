import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import {
  BulkDeleteMailboxesDto, BulkDeleteResultDto, CreatedMailboxDto, CreateMailboxDto, GeneratedPasswordDto, MailboxDto, MailboxListQueryDto,
  MailboxPageDto, SetPasswordDto, UpdateMailboxDto,
} from './dto';
import { MailboxesService } from './mailboxes.service';

@ApiTags('mailboxes')
@ApiBearerAuth()
@Controller('mailboxes')
export class MailboxesController {
  constructor(private readonly mailboxes: MailboxesService) {}

  /** Find by fragment (`q`), browse by initial letter, filter by domain, tenant, status or role; sorted by address. */
  @Get()
  @ZodResponse({ status: 200, type: MailboxPageDto })
  list(@CurrentActor() actor: Actor, @Query() query: MailboxListQueryDto) {
    return this.mailboxes.list(actor, query);
  }

  /** Without `password` a random one is generated and returned once in the response. */
  @Post()
  @ZodResponse({ status: 201, type: CreatedMailboxDto })
  create(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateMailboxDto) {
    return this.mailboxes.create(actor, ip, body);
  }

  /** Deletes every listed mailbox, or none of them (one missing or forbidden and nothing is deleted). */
  @Post('delete')
  @ZodResponse({ status: 200, type: BulkDeleteResultDto })
  removeMany(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: BulkDeleteMailboxesDto) {
    return this.mailboxes.removeMany(actor, ip, body);
  }

  /** By id or address; users may read their own. */
  @Get(':mailbox')
  @ZodResponse({ status: 200, type: MailboxDto })
  get(@CurrentActor() actor: Actor, @Param('mailbox') mailbox: string) {
    return this.mailboxes.get(actor, mailbox);
  }

  @Patch(':mailbox')
  @ZodResponse({ status: 200, type: MailboxDto })
  update(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') mailbox: string, @Body() body: UpdateMailboxDto) {
    return this.mailboxes.update(actor, ip, mailbox, body);
  }

  @Delete(':mailbox')
  @HttpCode(204)
  @ApiResponse({ status: 204, description: 'deleted with its mail' })
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') mailbox: string): Promise<void> {
    await this.mailboxes.remove(actor, ip, mailbox);
  }

  /** Sign-in is refused and every session of the mailbox ends. */
  @Post(':mailbox/suspend')
  @ZodResponse({ status: 200, type: MailboxDto })
  suspend(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') mailbox: string) {
    return this.mailboxes.setStatus(actor, ip, mailbox, 'suspended');
  }

  @Post(':mailbox/resume')
  @ZodResponse({ status: 200, type: MailboxDto })
  resume(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') mailbox: string) {
    return this.mailboxes.setStatus(actor, ip, mailbox, 'active');
  }

  /** Sets the password; every session of the mailbox ends. */
  @Put(':mailbox/password')
  @HttpCode(204)
  @ApiResponse({ status: 204, description: 'password set; existing tokens of the mailbox stop working' })
  async setPassword(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') mailbox: string, @Body() body: SetPasswordDto): Promise<void> {
    await this.mailboxes.setPassword(actor, ip, mailbox, body.password);
  }

  /** Generates a random password, returned once; every session of the mailbox ends. */
  @Post(':mailbox/password/reset')
  @ZodResponse({ status: 200, type: GeneratedPasswordDto })
  resetPassword(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') mailbox: string) {
    return this.mailboxes.setPassword(actor, ip, mailbox);
  }
}
