/** The domain directory (global address list) lives with the address books but under the domain's path. */
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { CurrentActor } from '../auth/actor.decorator';
import { AddressBooksService } from './address-books.service';
import { DirectoryPageDto, DirectoryQueryDto } from './dto';

@ApiTags('address-books')
@ApiBearerAuth()
@Controller('domains')
export class DirectoryController {
  constructor(private readonly books: AddressBooksService) {}

  /** Active mailboxes of the domain (address and display name), for the domain's users and the admins above. */
  @Get(':domain/directory')
  @ZodResponse({ status: 200, type: DirectoryPageDto })
  directory(@CurrentActor() actor: Actor, @Param('domain') domain: string, @Query() query: DirectoryQueryDto) {
    return this.books.directory(actor, domain, query);
  }
}
