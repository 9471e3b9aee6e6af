import { createZodDto } from 'nestjs-zod';
import { mailboxPreferencePatch, mailboxPreferenceView } from '@dizi/contracts/mailbox-preference.contract';

export class MailboxPreferencePatchDto extends createZodDto(mailboxPreferencePatch) {}
export class MailboxPreferenceDto extends createZodDto(mailboxPreferenceView) {}
