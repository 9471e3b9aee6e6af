import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Response } from 'express';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import {
  ChangePlanDto, CheckoutDto, CreatePlanDto, InvoiceListDto, LinkDto, PlanDto, PlanListDto, SetBillingDto, TenantBillingDto, UpdatePlanDto, UsageListDto, UsageQueryDto,
} from './dto';
import { PlansService } from './plans.service';
import { TenantBillingService } from './tenant-billing.service';
import { UsageService, usageCsv } from './usage.service';

/** The plan catalogue: everyone signed in reads it, operators write it. */
@ApiTags('billing')
@ApiBearerAuth()
@Controller('plans')
export class PlansController {
  constructor(private readonly plans: PlansService) {}

  @Get()
  @ZodResponse({ status: 200, type: PlanListDto })
  list() {
    return this.plans.list();
  }

  @Post()
  @ZodResponse({ status: 201, type: PlanDto })
  create(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreatePlanDto) {
    return this.plans.create(actor, ip, body);
  }

  @Get(':code')
  @ZodResponse({ status: 200, type: PlanDto })
  get(@Param('code') code: string) {
    return this.plans.get(code);
  }

  /** New limits reach every tenant on the plan at once (refused while one uses more). */
  @Patch(':code')
  @ZodResponse({ status: 200, type: PlanDto })
  update(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('code') code: string, @Body() body: UpdatePlanDto) {
    return this.plans.update(actor, ip, code, body);
  }

  @Delete(':code')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('code') code: string): Promise<void> {
    await this.plans.remove(actor, ip, code);
  }
}

/** A tenant's plan, subscription and invoices. */
@ApiTags('billing')
@ApiBearerAuth()
@Controller('tenants/:id')
export class TenantBillingController {
  constructor(private readonly billing: TenantBillingService) {}

  @Get('billing')
  @ZodResponse({ status: 200, type: TenantBillingDto })
  get(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.billing.get(actor, id);
  }

  /** Operators: billing mode (stripe or manual, e.g. bank transfer) and status by hand. */
  @Patch('billing')
  @ZodResponse({ status: 200, type: TenantBillingDto })
  set(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string, @Body() body: SetBillingDto) {
    return this.billing.setBilling(actor, ip, id, body);
  }

  /** Moves the tenant to another plan: limits change at once; refused with what to remove first when it does not fit. */
  @Put('plan')
  @ZodResponse({ status: 200, type: TenantBillingDto })
  changePlan(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string, @Body() body: ChangePlanDto) {
    return this.billing.changePlan(actor, ip, id, body);
  }

  /** A Stripe Checkout link to start a subscription (tenant admins). */
  @Post('billing/checkout')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: LinkDto })
  checkout(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: CheckoutDto) {
    return this.billing.checkout(actor, id, body);
  }

  /** A Stripe Customer Portal link: payment methods, invoices, cancellation. */
  @Post('billing/portal')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: LinkDto })
  portal(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.billing.portal(actor, id);
  }

  @Get('billing/invoices')
  @ZodResponse({ status: 200, type: InvoiceListDto })
  invoices(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.billing.invoices(actor, id);
  }
}

/** Usage per tenant and day or month, JSON or CSV (`format=csv`), for ISPs billing with their own systems. */
@ApiTags('billing')
@ApiBearerAuth()
@Controller('usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiExtraModels(UsageListDto)
  @ApiOkResponse({
    description: 'JSON by default; CSV (one row per tenant and period) with `format=csv`',
    content: { 'application/json': { schema: { $ref: getSchemaPath(UsageListDto) } }, 'text/csv': { schema: { type: 'string' } } },
  })
  async list(@CurrentActor() actor: Actor, @Query() query: UsageQueryDto, @Res({ passthrough: true }) res: Response) {
    const items = await this.usage.list(actor, query);
    if (query.format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', 'attachment; filename="usage.csv"');
      return usageCsv(items);
    }
    return { items };
  }
}
