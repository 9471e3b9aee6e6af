/** Batch import and export of a domain's mailboxes as CSV, and the import jobs they start. */
import { Body, Controller, Get, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { ImportAcceptedDto, ImportJobDto, ImportRowPageDto, ImportRowsQueryDto, MailboxImportQueryDto } from './dto';
import { MailboxExportService } from './mailbox-export.service';
import { MailboxImportService } from './mailbox-import.service';

const CSV_FORMAT =
  'One mailbox per line: address, display name, quota (bytes, or with K/M/G), password or hash ({SHA512-CRYPT}, {SHA256-CRYPT}, {MD5-CRYPT}, {SSHA}, {SSHA512}, {BLF-CRYPT}, {ARGON2ID}, or a bare $6$/$5$/$1$/$2b$ crypt string). A header row is optional; blank lines are ignored.';

@ApiTags('mailboxes')
@ApiBearerAuth()
@Controller()
export class MailboxImportController {
  constructor(
    private readonly imports: MailboxImportService,
    private readonly exports: MailboxExportService,
  ) {}

  /** Starts a background import; follow it at GET /api/imports/{jobId}. Nothing is saved unless the whole file goes through. */
  @Post('domains/:domain/mailboxes/import')
  @ApiConsumes('text/csv')
  @ApiBody({ description: CSV_FORMAT, schema: { type: 'string', example: 'address,display name,quota,password\nalice@example.com,Alice,1G,correct-horse-battery\n' } })
  @ZodResponse({ status: 202, type: ImportAcceptedDto, description: 'the import job started' })
  import(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('domain') domain: string, @Query() query: MailboxImportQueryDto, @Body() body: unknown) {
    return this.imports.startFromRequest(actor, ip, domain, body, query.rehome);
  }

  /** The domain's mailboxes in the import format, password hashes included. */
  @Get('domains/:domain/mailboxes/export')
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: CSV_FORMAT, schema: { type: 'string' } })
  async export(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('domain') domain: string): Promise<StreamableFile> {
    const { filename, stream } = await this.exports.export(actor, ip, domain);
    return new StreamableFile(stream, { type: 'text/csv; charset=utf-8', disposition: `attachment; filename="${filename}"` });
  }

  /** Status and progress; a job whose process died reads 'interrupted'. */
  @Get('imports/:id')
  @ZodResponse({ status: 200, type: ImportJobDto })
  job(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.imports.job(actor, id);
  }

  /** What happened to each line, in file order; `outcome=failed` lists the rows to fix. */
  @Get('imports/:id/rows')
  @ZodResponse({ status: 200, type: ImportRowPageDto })
  rows(@CurrentActor() actor: Actor, @Param('id') id: string, @Query() query: ImportRowsQueryDto) {
    return this.imports.rows(actor, id, query);
  }
}
