import { Module } from '@nestjs/common';
import { MailboxPreferencesController } from './mailbox-preferences.controller';
import { MailboxPreferencesService } from './mailbox-preferences.service';

@Module({ controllers: [MailboxPreferencesController], providers: [MailboxPreferencesService] })
export class MailboxPreferencesModule {}
