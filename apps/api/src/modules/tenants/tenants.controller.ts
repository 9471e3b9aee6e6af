import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { CreateTenantDto, DeleteTenantDto, TenantDto, TenantListQueryDto, TenantPageDto, UpdateTenantDto } from './dto';
import { ConfirmBody } from './confirm-body.decorator';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  @ZodResponse({ status: 200, type: TenantPageDto })
  list(@CurrentActor() actor: Actor, @Query() query: TenantListQueryDto) {
    return this.tenants.list(actor, query);
  }

  @Post()
  @ZodResponse({ status: 201, type: TenantDto })
  create(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateTenantDto) {
    return this.tenants.create(actor, ip, body);
  }

  @Get(':id')
  @ZodResponse({ status: 200, type: TenantDto })
  get(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.tenants.get(actor, id);
  }

  /** Rename; operators also change plan and limits. */
  @Patch(':id')
  @ZodResponse({ status: 200, type: TenantDto })
  update(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string, @Body() body: UpdateTenantDto) {
    return this.tenants.update(actor, ip, id, body);
  }

  @Post(':id/suspend')
  @ZodResponse({ status: 200, type: TenantDto })
  suspend(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string) {
    return this.tenants.setStatus(actor, ip, id, 'suspended');
  }

  @Post(':id/resume')
  @ZodResponse({ status: 200, type: TenantDto })
  resume(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string) {
    return this.tenants.setStatus(actor, ip, id, 'active');
  }

  /** Deletes the tenant and everything it owns; `confirm` must repeat its name. */
  @Delete(':id')
  @HttpCode(204)
  @ApiBody({ type: DeleteTenantDto, required: true })
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string, @ConfirmBody() body: DeleteTenantDto): Promise<void> {
    await this.tenants.remove(actor, ip, id, body.confirm);
  }
}
