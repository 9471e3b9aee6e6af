import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { DomainsController } from './domains.controller';
import { DomainsService } from './domains.service';

@Module({ imports: [TenantsModule], controllers: [DomainsController], providers: [DomainsService], exports: [DomainsService] })
export class DomainsModule {}
