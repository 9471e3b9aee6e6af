import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { QuarantineEntryDto, QuarantineListQueryDto, QuarantinePageDto, QuarantinePreviewDto } from './dto';
import { QuarantineService } from './quarantine.service';

@ApiTags('quarantine')
@ApiBearerAuth()
@Controller('quarantine')
export class QuarantineController {
  constructor(private readonly quarantine: QuarantineService) {}

  /** Held messages the caller may see (own mailbox; an admin's domain or tenant; an operator's all), newest first. */
  @Get()
  @ZodResponse({ status: 200, type: QuarantinePageDto })
  list(@CurrentActor() actor: Actor, @Query() query: QuarantineListQueryDto) {
    return this.quarantine.list(actor, query);
  }

  /** One entry with its header and the start of its plain text (nothing rendered, no attachment served). */
  @Get(':id')
  @ZodResponse({ status: 200, type: QuarantinePreviewDto })
  preview(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.quarantine.preview(actor, id);
  }

  /** Delivers it to the recipient's INBOX (within seconds). A virus only by an administrator. */
  @Post(':id/release')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: QuarantineEntryDto })
  release(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string) {
    return this.quarantine.release(actor, ip, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted' })
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string): Promise<void> {
    await this.quarantine.remove(actor, ip, id);
  }
}
