import { createZodDto } from 'nestjs-zod';
import { mailboxDeliverySettings, mailboxDeliveryView } from '@dizi/contracts/mailbox-delivery.contract';

export class MailboxDeliverySettingsDto extends createZodDto(mailboxDeliverySettings) {}
export class MailboxDeliveryDto extends createZodDto(mailboxDeliveryView) {}
