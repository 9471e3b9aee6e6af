import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import {
  CreateRegistrationCodeDto, IssuedRegistrationCodeDto, RedeemRegistrationCodeDto, RegistrationCodeDto, RegistrationCodeListQueryDto,
  RegistrationCodePageDto,
} from './dto';
import { RegistrationCodesService } from './registration-codes.service';

@ApiTags('registration-codes')
@ApiBearerAuth()
@Controller('registration-codes')
export class RegistrationCodesController {
  constructor(private readonly codes: RegistrationCodesService) {}

  /** Operators: every code; tenant admins: the codes bound to their tenant. */
  @Get()
  @ZodResponse({ status: 200, type: RegistrationCodePageDto })
  list(@CurrentActor() actor: Actor, @Query() query: RegistrationCodeListQueryDto) {
    return this.codes.list(actor, query);
  }

  /** Issues a signed code (operators); the code itself is shown only in this response. */
  @Post()
  @ZodResponse({ status: 201, type: IssuedRegistrationCodeDto })
  issue(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateRegistrationCodeDto) {
    return this.codes.issue(actor, ip, body);
  }

  /** Binds a code to a tenant, replacing the tenant's previous code; the tenant is then limited by it. */
  @Post('redeem')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: RegistrationCodeDto })
  redeem(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: RedeemRegistrationCodeDto) {
    return this.codes.redeem(actor, ip, body);
  }

  @Get(':id')
  @ZodResponse({ status: 200, type: RegistrationCodeDto })
  get(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.codes.get(actor, id);
  }

  /** The code can no longer be redeemed, and a tenant holding it is no longer limited by it. */
  @Post(':id/revoke')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: RegistrationCodeDto })
  revoke(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string) {
    return this.codes.revoke(actor, ip, id);
  }
}
