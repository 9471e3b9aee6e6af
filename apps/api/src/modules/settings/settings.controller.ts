import { Body, Controller, Get, HttpCode, Patch, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import {
  JmapSettingsDto, JmapSettingsPatchDto, MailTemplatesDto, MailTemplatesViewDto, SmtpSettingsDto, SmtpSettingsPatchDto, TemplatePreviewDto, TemplatePreviewRequestDto,
} from './dto';
import { SettingsService } from './settings.service';

@ApiTags('settings')
@ApiBearerAuth()
@Controller('settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  /** The mail nodes' settings in force, each default beside it (operators). */
  @Get('smtp')
  @ZodResponse({ status: 200, type: SmtpSettingsDto })
  smtp(@CurrentActor() actor: Actor) {
    return this.settings.smtp(actor);
  }

  /** Changes the named fields only; every node applies the change within a second, without restart. */
  @Patch('smtp')
  @ZodResponse({ status: 200, type: SmtpSettingsDto })
  updateSmtp(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: SmtpSettingsPatchDto) {
    return this.settings.updateSmtp(actor, ip, body);
  }

  /** The JMAP server's limits in force, each default (the API's JMAP_MAX_* variable) beside it (operators). */
  @Get('jmap')
  @ZodResponse({ status: 200, type: JmapSettingsDto })
  jmap(@CurrentActor() actor: Actor) {
    return this.settings.jmap(actor);
  }

  /** Changes the named limits only; every API process applies them within a second and announces them in the JMAP session. */
  @Patch('jmap')
  @ZodResponse({ status: 200, type: JmapSettingsDto })
  updateJmap(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: JmapSettingsPatchDto) {
    return this.settings.updateJmap(actor, ip, body);
  }

  /** Welcome and quota-warning mails, in Chinese and English, with their placeholders (operators). */
  @Get('templates')
  @ZodResponse({ status: 200, type: MailTemplatesViewDto })
  templates(@CurrentActor() actor: Actor) {
    return this.settings.templates(actor);
  }

  @Put('templates')
  @ZodResponse({ status: 200, type: MailTemplatesViewDto })
  updateTemplates(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: MailTemplatesDto) {
    return this.settings.updateTemplates(actor, ip, body);
  }

  /** A template (saved, or a draft) filled with a sample mailbox's values, in zh-CN and en or the one language asked. */
  @Post('templates/preview')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: TemplatePreviewDto })
  previewTemplate(@CurrentActor() actor: Actor, @Body() body: TemplatePreviewRequestDto) {
    return this.settings.previewTemplate(actor, body);
  }
}
