import { Module } from '@nestjs/common';
import { TenantsController } from './tenants.controller';
import { LimitsService } from './limits.service';
import { TenantsService } from './tenants.service';

@Module({ controllers: [TenantsController], providers: [TenantsService, LimitsService], exports: [TenantsService, LimitsService] })
export class TenantsModule {}
