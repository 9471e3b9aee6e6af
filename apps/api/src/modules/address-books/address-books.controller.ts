import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { AddressBooksService } from './address-books.service';
import {
  AddressBookDto, AddressBookListQueryDto, AddressBookPageDto, ContactDto, ContactListQueryDto, ContactPageDto, CreateAddressBookDto,
  CreateContactDto, UpdateAddressBookDto, UpdateContactDto,
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
