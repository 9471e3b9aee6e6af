import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { CreateSieveScriptDto, PutSieveScriptDto, SieveScriptDetailDto, SieveScriptDto, SieveScriptListDto } from './dto';
import { SieveScriptsService, type SieveLevelRef } from './sieve-scripts.service';

const GLOBAL: SieveLevelRef = { level: 'global' };
const domain = (d: string): SieveLevelRef => ({ level: 'domain', domain: d });
const mailbox = (m: string): SieveLevelRef => ({ level: 'mailbox', mailbox: m });

/**
 * Sieve scripts at each level, the same verbs at each: list, get, create (POST), replace (PUT), each with
 * `activate: true` to make it active too, activate, deactivate, delete. Global: operators; a domain's: its admins; a mailbox's: its owner and admins.
 */
@ApiTags('sieve')
@ApiBearerAuth()
@Controller()
export class SieveScriptsController {
  constructor(private readonly sieve: SieveScriptsService) {}

  // ---- global (operators) ----
  @Get('sieve/global/scripts')
  @ZodResponse({ status: 200, type: SieveScriptListDto })
  listGlobal(@CurrentActor() actor: Actor) {
    return this.sieve.list(actor, GLOBAL);
  }

  @Get('sieve/global/scripts/:name')
  @ZodResponse({ status: 200, type: SieveScriptDetailDto })
  getGlobal(@CurrentActor() actor: Actor, @Param('name') name: string) {
    return this.sieve.get(actor, GLOBAL, name);
  }

  @Post('sieve/global/scripts')
  @ZodResponse({ status: 201, type: SieveScriptDto })
  createGlobal(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateSieveScriptDto) {
    const { name, ...rest } = body;
    return this.sieve.put(actor, ip, GLOBAL, name, rest, 'create');
  }

  @Put('sieve/global/scripts/:name')
  @ZodResponse({ status: 200, type: SieveScriptDto })
  putGlobal(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('name') name: string, @Body() body: PutSieveScriptDto) {
    return this.sieve.put(actor, ip, GLOBAL, name, body, 'replace');
  }

  @Post('sieve/global/scripts/:name/activate')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'now the active global script' })
  async activateGlobal(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('name') name: string): Promise<void> {
    await this.sieve.activate(actor, ip, GLOBAL, name);
  }

  @Post('sieve/global/deactivate')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'no global script is active' })
  async deactivateGlobal(@CurrentActor() actor: Actor, @ClientIp() ip: string): Promise<void> {
    await this.sieve.activate(actor, ip, GLOBAL, null);
  }

  @Delete('sieve/global/scripts/:name')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted' })
  async deleteGlobal(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('name') name: string): Promise<void> {
    await this.sieve.delete(actor, ip, GLOBAL, name);
  }

  // ---- a domain's (its admins) ----
  @Get('domains/:domain/sieve/scripts')
  @ZodResponse({ status: 200, type: SieveScriptListDto })
  listDomain(@CurrentActor() actor: Actor, @Param('domain') d: string) {
    return this.sieve.list(actor, domain(d));
  }

  @Get('domains/:domain/sieve/scripts/:name')
  @ZodResponse({ status: 200, type: SieveScriptDetailDto })
  getDomain(@CurrentActor() actor: Actor, @Param('domain') d: string, @Param('name') name: string) {
    return this.sieve.get(actor, domain(d), name);
  }

  @Post('domains/:domain/sieve/scripts')
  @ZodResponse({ status: 201, type: SieveScriptDto })
  createDomain(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('domain') d: string, @Body() body: CreateSieveScriptDto) {
    const { name, ...rest } = body;
    return this.sieve.put(actor, ip, domain(d), name, rest, 'create');
  }

  @Put('domains/:domain/sieve/scripts/:name')
  @ZodResponse({ status: 200, type: SieveScriptDto })
  putDomain(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('domain') d: string, @Param('name') name: string, @Body() body: PutSieveScriptDto) {
    return this.sieve.put(actor, ip, domain(d), name, body, 'replace');
  }

  @Post('domains/:domain/sieve/scripts/:name/activate')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'now the active script of the domain' })
  async activateDomain(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('domain') d: string, @Param('name') name: string): Promise<void> {
    await this.sieve.activate(actor, ip, domain(d), name);
  }

  @Post('domains/:domain/sieve/deactivate')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'no script of the domain is active' })
  async deactivateDomain(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('domain') d: string): Promise<void> {
    await this.sieve.activate(actor, ip, domain(d), null);
  }

  @Delete('domains/:domain/sieve/scripts/:name')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted' })
  async deleteDomain(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('domain') d: string, @Param('name') name: string): Promise<void> {
    await this.sieve.delete(actor, ip, domain(d), name);
  }

  // ---- a mailbox's (its owner and admins) ----
  @Get('mailboxes/:mailbox/sieve/scripts')
  @ZodResponse({ status: 200, type: SieveScriptListDto })
  listMailbox(@CurrentActor() actor: Actor, @Param('mailbox') m: string) {
    return this.sieve.list(actor, mailbox(m));
  }

  @Get('mailboxes/:mailbox/sieve/scripts/:name')
  @ZodResponse({ status: 200, type: SieveScriptDetailDto })
  getMailbox(@CurrentActor() actor: Actor, @Param('mailbox') m: string, @Param('name') name: string) {
    return this.sieve.get(actor, mailbox(m), name);
  }

  @Post('mailboxes/:mailbox/sieve/scripts')
  @ZodResponse({ status: 201, type: SieveScriptDto })
  createMailbox(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') m: string, @Body() body: CreateSieveScriptDto) {
    const { name, ...rest } = body;
    return this.sieve.put(actor, ip, mailbox(m), name, rest, 'create');
  }

  @Put('mailboxes/:mailbox/sieve/scripts/:name')
  @ZodResponse({ status: 200, type: SieveScriptDto })
  putMailbox(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') m: string, @Param('name') name: string, @Body() body: PutSieveScriptDto) {
    return this.sieve.put(actor, ip, mailbox(m), name, body, 'replace');
  }

  @Post('mailboxes/:mailbox/sieve/scripts/:name/activate')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'now the active script of the mailbox' })
  async activateMailbox(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') m: string, @Param('name') name: string): Promise<void> {
    await this.sieve.activate(actor, ip, mailbox(m), name);
  }

  @Post('mailboxes/:mailbox/sieve/deactivate')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'no script of the mailbox is active' })
  async deactivateMailbox(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') m: string): Promise<void> {
    await this.sieve.activate(actor, ip, mailbox(m), null);
  }

  @Delete('mailboxes/:mailbox/sieve/scripts/:name')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted' })
  async deleteMailbox(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('mailbox') m: string, @Param('name') name: string): Promise<void> {
    await this.sieve.delete(actor, ip, mailbox(m), name);
  }
}
