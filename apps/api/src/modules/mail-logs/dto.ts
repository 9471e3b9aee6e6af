import { createZodDto } from 'nestjs-zod';
import { mailLogPage, mailLogQuery } from '@dizi/contracts/mail-log.contract';

export class MailLogQueryDto extends createZodDto(mailLogQuery) {}
export class MailLogPageDto extends createZodDto(mailLogPage) {}
