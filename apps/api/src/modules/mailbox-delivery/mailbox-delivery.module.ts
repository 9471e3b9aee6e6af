import { Module } from '@nestjs/common';
import { MailboxDeliveryController } from './mailbox-delivery.controller';
import { MailboxDeliveryService } from './mailbox-delivery.service';

/** The service is exported for JMAP's VacationResponse, which is the same auto-reply. */
@Module({ controllers: [MailboxDeliveryController], providers: [MailboxDeliveryService], exports: [MailboxDeliveryService] })
export class MailboxDeliveryModule {}
