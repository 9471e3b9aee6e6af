import { Module } from '@nestjs/common';
import { MailboxDeliveryController } from './mailbox-delivery.controller';
import { MailboxDeliveryService } from './mailbox-delivery.service';

@Module({ controllers: [MailboxDeliveryController], providers: [MailboxDeliveryService] })
export class MailboxDeliveryModule {}
