import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { ApiKeyDto, ApiKeyListQueryDto, ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto';
import { ApiKeysService } from './api-keys.service';

@ApiTags('api-keys')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  /** Operators: every key; tenant admins: their tenant's keys. Never the secret. */
  @Get()
  @ZodResponse({ status: 200, type: ApiKeyPageDto })
  list(@CurrentActor() actor: Actor, @Query() query: ApiKeyListQueryDto) {
    return this.keys.list(actor, query);
  }

  /** The secret key is in this response only; it is stored hashed. */
  @Post()
  @ZodResponse({ status: 201, type: CreatedApiKeyDto })
  create(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateApiKeyDto) {
    return this.keys.create(actor, ip, body);
  }

  @Get(':id')
  @ZodResponse({ status: 200, type: ApiKeyDto })
  get(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.keys.get(actor, id);
  }

  /** Revokes the key: it stops working at once; the row stays for the audit trail. */
  @Delete(':id')
  @HttpCode(204)
  async revoke(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string): Promise<void> {
    await this.keys.revoke(actor, ip, id);
  }
}
