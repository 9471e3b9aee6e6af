import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { AddressBooksService } from './address-books.service';
import {
  AddressBookDto, AddressBookListQueryDto, AddressBookPageDto, ContactDto, ContactListQueryDto, ContactPageDto, CreateAddressBookDto,
  CreateContactDto, ExportContactsQueryDto, ImportContactsDto, ImportContactsReportDto, UpdateAddressBookDto, UpdateContactDto,
} from './dto';

/** Public address books: system-wide (operators write, everyone reads) and per domain (admins write, the domain's users read). */
@ApiTags('address-books')
@ApiBearerAuth()
@Controller('address-books')
export class AddressBooksController {
  constructor(private readonly books: AddressBooksService) {}

  /** System books and those of the domains the actor reads; `domain` narrows to one domain's books. */
  @Get()
  @ZodResponse({ status: 200, type: AddressBookPageDto })
  list(@CurrentActor() actor: Actor, @Query() query: AddressBookListQueryDto) {
    return this.books.list(actor, query);
  }

  /** Without `domain` the book is system-wide, which only operators may create. */
  @Post()
  @ZodResponse({ status: 201, type: AddressBookDto })
  create(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateAddressBookDto) {
    return this.books.create(actor, ip, body);
  }

  @Get(':id')
  @ZodResponse({ status: 200, type: AddressBookDto })
  get(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.books.get(actor, id);
  }

  @Patch(':id')
  @ZodResponse({ status: 200, type: AddressBookDto })
  update(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string, @Body() body: UpdateAddressBookDto) {
    return this.books.update(actor, ip, id, body);
  }

  /** Deletes the book and its contacts. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted' })
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string): Promise<void> {
    await this.books.remove(actor, ip, id);
  }

  @Get(':id/contacts')
  @ZodResponse({ status: 200, type: ContactPageDto })
  contacts(@CurrentActor() actor: Actor, @Param('id') id: string, @Query() query: ContactListQueryDto) {
    return this.books.contacts(actor, id, query);
  }

  @Post(':id/contacts')
  @ZodResponse({ status: 201, type: ContactDto })
  createContact(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string, @Body() body: CreateContactDto) {
    return this.books.createContact(actor, ip, id, body);
  }

  /** Adds the contacts of a CSV or vCard (3.0/4.0) file; the report has one row per record with what became of it. */
  @Post(':id/contacts/import')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: ImportContactsReportDto })
  importContacts(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string, @Body() body: ImportContactsDto) {
    return this.books.importContacts(actor, ip, id, body);
  }

  /** The book's contacts as a vCard file (`version` 3.0 or 4.0, default 4.0). */
  @Get(':id/contacts/export')
  @ApiProduces('text/vcard')
  @ApiOkResponse({ description: 'a vCard file, one card per contact', schema: { type: 'string' } })
  async exportContacts(@CurrentActor() actor: Actor, @Param('id') id: string, @Query() query: ExportContactsQueryDto): Promise<StreamableFile> {
    const { filename, body } = await this.books.exportContacts(actor, id, query.version);
    return new StreamableFile(Buffer.from(body, 'utf8'), {
      type: 'text/vcard; charset=utf-8',
      disposition: `attachment; filename="${filename.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
    });
  }

  @Patch(':id/contacts/:contactId')
  @ZodResponse({ status: 200, type: ContactDto })
  updateContact(
    @CurrentActor() actor: Actor,
    @ClientIp() ip: string,
    @Param('id') id: string,
    @Param('contactId') contactId: string,
    @Body() body: UpdateContactDto,
  ) {
    return this.books.updateContact(actor, ip, id, contactId, body);
  }

  @Delete(':id/contacts/:contactId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted' })
  async removeContact(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('id') id: string, @Param('contactId') contactId: string): Promise<void> {
    await this.books.removeContact(actor, ip, id, contactId);
  }
}
