import { createZodDto } from 'nestjs-zod';
import {
  bulkDeleteMailboxesRequest, bulkDeleteResult, createdMailboxView, createMailboxRequest, generatedPasswordView, importAccepted,
  importJobView, importRowPage, importRowsQuery, mailboxImportQuery, mailboxListQuery, mailboxPage, mailboxView, setPasswordRequest,
  updateMailboxRequest,
} from '@dizi/contracts/mailbox.contract';

export class CreateMailboxDto extends createZodDto(createMailboxRequest) {}
export class UpdateMailboxDto extends createZodDto(updateMailboxRequest) {}
export class MailboxListQueryDto extends createZodDto(mailboxListQuery) {}
export class SetPasswordDto extends createZodDto(setPasswordRequest) {}
export class BulkDeleteMailboxesDto extends createZodDto(bulkDeleteMailboxesRequest) {}
export class MailboxDto extends createZodDto(mailboxView) {}
export class CreatedMailboxDto extends createZodDto(createdMailboxView) {}
export class MailboxPageDto extends createZodDto(mailboxPage) {}
export class GeneratedPasswordDto extends createZodDto(generatedPasswordView) {}
export class BulkDeleteResultDto extends createZodDto(bulkDeleteResult) {}
export class MailboxImportQueryDto extends createZodDto(mailboxImportQuery) {}
export class ImportAcceptedDto extends createZodDto(importAccepted) {}
export class ImportJobDto extends createZodDto(importJobView) {}
export class ImportRowsQueryDto extends createZodDto(importRowsQuery) {}
export class ImportRowPageDto extends createZodDto(importRowPage) {}
