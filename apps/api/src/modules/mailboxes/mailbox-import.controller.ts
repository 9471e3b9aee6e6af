/** Batch import and export of a domain's mailboxes as CSV, and the import jobs they start. */
import { Controller, Get, Inject, Param, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import type { ApiConfig } from '@dizi/config/api.config';
import { readTextBody, TextBody } from '../../common/request-body';
import { API_CONFIG } from '../../common/tokens';
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
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** Starts a background import; follow it at GET /api/imports/{jobId}. Nothing is saved unless the whole file goes through. */
  @Post('domains/:domain/mailboxes/import')
  @TextBody()
  @ApiConsumes('text/csv')
  @ApiBody({ description: CSV_FORMAT, schema: { type: 'string', example: 'address,display name,quota,password\nalice@example.com,Alice,1G,correct-horse-battery\n' } })
  @ZodResponse({ status: 202, type: ImportAcceptedDto, description: 'the import job started' })
  async import(
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('domain') domain: string,
    @Query() query: MailboxImportQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    // Read here, after sign-in: the body is the one large thing an API request can carry.
    const body = await readTextBody(req, res, this.config.API_IMPORT_BODY_MAX_BYTES);
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
