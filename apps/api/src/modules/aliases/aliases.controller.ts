import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { AliasesService } from './aliases.service';
import { AliasDto, AliasListQueryDto, AliasPageDto, CreateAliasDto, UpdateAliasDto } from './dto';

@ApiTags('aliases')
@ApiBearerAuth()
@Controller('aliases')
export class AliasesController {
  constructor(private readonly aliases: AliasesService) {}

  @Get()
  @ZodResponse({ status: 200, type: AliasPageDto })
  list(@CurrentActor() actor: Actor, @Query() query: AliasListQueryDto) {
    return this.aliases.list(actor, query);
  }

  /** `*@domain` (or localPart `*`) creates the domain's catch-all; one per domain. */
  @Post()
  @ZodResponse({ status: 201, type: AliasDto })
  create(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateAliasDto) {
    return this.aliases.create(actor, ip, body);
  }

  /** By id or by address. */
  @Get(':alias')
  @ZodResponse({ status: 200, type: AliasDto })
  get(@CurrentActor() actor: Actor, @Param('alias') alias: string) {
    return this.aliases.get(actor, alias);
  }

  @Patch(':alias')
  @ZodResponse({ status: 200, type: AliasDto })
  update(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('alias') alias: string, @Body() body: UpdateAliasDto) {
    return this.aliases.update(actor, ip, alias, body);
  }

  @Delete(':alias')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted' })
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('alias') alias: string): Promise<void> {
    await this.aliases.remove(actor, ip, alias);
  }
}
