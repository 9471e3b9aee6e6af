import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ZodSerializerInterceptor, ZodValidationPipe } from 'nestjs-zod';
import { DataSource } from 'typeorm';
import type { ApiConfig } from '@dizi/config/api.config';
import { CoreModule } from './common/core.module';
import { HttpErrorFilter } from './common/http-error.filter';
import { StoredTextPipe } from './common/stored-text.pipe';
import { BodyMediaTypeGuard } from './common/request-body';
import { AuthModule } from './modules/auth/auth.module';
import { HealthModule } from './modules/health/health.module';
import { DomainsModule } from './modules/domains/domains.module';
import { TenantsModule } from './modules/tenants/tenants.module';
import { AliasesModule } from './modules/aliases/aliases.module';
import { GroupsModule } from './modules/groups/groups.module';
import { AddressBooksModule } from './modules/address-books/address-books.module';
import { RegistrationCodesModule } from './modules/registration-codes/registration-codes.module';
import { ApiKeysModule } from './modules/api-keys/api-keys.module';
import { AuditModule } from './modules/audit/audit.module';
import { MailboxesModule } from './modules/mailboxes/mailboxes.module';
import { SettingsModule } from './modules/settings/settings.module';
import { MailLogsModule } from './modules/mail-logs/mail-logs.module';
import { MailboxDeliveryModule } from './modules/mailbox-delivery/mailbox-delivery.module';
import { MailboxPreferencesModule } from './modules/mailbox-preferences/mailbox-preferences.module';
import { MailboxSendAsModule } from './modules/mailbox-send-as/mailbox-send-as.module';
import { SieveScriptsModule } from './modules/sieve-scripts/sieve-scripts.module';
import { QuarantineModule } from './modules/quarantine/quarantine.module';
import { AntispamModule } from './modules/antispam/antispam.module';
import { QueueModule } from './modules/queue/queue.module';
import { StatsModule } from './modules/stats/stats.module';
import { SignInAuditModule } from './modules/sign-in-audit/sign-in-audit.module';
import { JmapModule } from './modules/jmap/jmap.module';
import { NodesModule } from './modules/nodes/nodes.module';
import { ClientConfigModule } from './modules/client-config/client-config.module';
import { BillingModule } from './modules/billing/billing.module';

/** Feature modules, one line each. */
const FEATURES = [
  AuthModule,
  HealthModule,
  TenantsModule,
  DomainsModule,
  AliasesModule,
  GroupsModule,
  AddressBooksModule,
  RegistrationCodesModule,
  ApiKeysModule,
  AuditModule,
  MailboxesModule,
  SettingsModule,
  MailLogsModule,
  MailboxDeliveryModule,
  QueueModule,
  MailboxSendAsModule,
  StatsModule,
  SignInAuditModule,
  NodesModule,
  JmapModule,
  SieveScriptsModule,
  BillingModule,
  QuarantineModule,
  ClientConfigModule,
  MailboxPreferencesModule,
  AntispamModule,
];

@Module({})
export class AppModule {
  static forRoot(config: ApiConfig, dataSource: DataSource): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(config, dataSource), ...FEATURES],
      providers: [
        // Before validation: a NUL is refused as such, whatever else is wrong with the value.
        { provide: APP_PIPE, useClass: StoredTextPipe },
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: ZodSerializerInterceptor },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_GUARD, useClass: BodyMediaTypeGuard },
      ],
    };
  }
}
