import { Module } from '@nestjs/common';
import { PlansController, TenantBillingController, UsageController } from './billing.controller';
import { PlansService } from './plans.service';
import { stripeProvider } from './stripe.provider';
import { TenantBillingService } from './tenant-billing.service';
import { UsageService } from './usage.service';

@Module({ controllers: [PlansController, TenantBillingController, UsageController], providers: [stripeProvider, PlansService, TenantBillingService, UsageService] })
export class BillingModule {}
