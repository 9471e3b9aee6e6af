import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { RegistrationCodesController } from './registration-codes.controller';
import { RegistrationCodesService } from './registration-codes.service';

@Module({ imports: [TenantsModule], controllers: [RegistrationCodesController], providers: [RegistrationCodesService], exports: [RegistrationCodesService] })
export class RegistrationCodesModule {}
