import { Module } from '@nestjs/common';
import { MailLogsController } from './mail-logs.controller';
import { MailLogsService } from './mail-logs.service';

/** Reading the mail log; the mail nodes write it (libs/delivery/src/logs/mail-log.ts). */
@Module({ controllers: [MailLogsController], providers: [MailLogsService] })
export class MailLogsModule {}
