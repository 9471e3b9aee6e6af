import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { MailboxExportService } from './mailbox-export.service';
import { MailboxImportController } from './mailbox-import.controller';
import { MailboxImportService } from './mailbox-import.service';
import { MailboxesController } from './mailboxes.controller';
import { MailboxesService } from './mailboxes.service';
import { MailboxDirectoryCache } from './mailbox-directory-cache';

@Module({
  imports: [TenantsModule],
  controllers: [MailboxesController, MailboxImportController],
  providers: [MailboxesService, MailboxDirectoryCache, MailboxImportService, MailboxExportService],
  exports: [MailboxesService, MailboxImportService],
})
export class MailboxesModule {}
