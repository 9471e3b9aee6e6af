import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { CurrentActor } from '../auth/actor.decorator';
import { MailboxPreferenceDto, MailboxPreferencePatchDto } from './dto';
import { MailboxPreferencesService } from './mailbox-preferences.service';

@ApiTags('mailboxes')
@ApiBearerAuth()
@Controller('me/preferences')
export class MailboxPreferencesController {
  constructor(private readonly preferences: MailboxPreferencesService) {}

  /** The signed-in mailbox user's webmail preferences (defaults until changed). */
  @Get()
  @ZodResponse({ status: 200, type: MailboxPreferenceDto })
  get(@CurrentActor() actor: Actor) {
    return this.preferences.get(actor);
  }

  /** Changes the fields given; `imageSenders` replaces the whole list. */
  @Patch()
  @ZodResponse({ status: 200, type: MailboxPreferenceDto })
  patch(@CurrentActor() actor: Actor, @Body() body: MailboxPreferencePatchDto) {
    return this.preferences.patch(actor, body);
  }
}
