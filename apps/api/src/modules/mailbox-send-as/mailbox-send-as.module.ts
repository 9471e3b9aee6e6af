import { Module } from '@nestjs/common';
import { MailboxSendAsController } from './mailbox-send-as.controller';
import { MailboxSendAsService } from './mailbox-send-as.service';

@Module({ controllers: [MailboxSendAsController], providers: [MailboxSendAsService] })
export class MailboxSendAsModule {}
