import { createZodDto } from 'nestjs-zod';
import {
  addressBookListQuery, addressBookPage, addressBookView, contactListQuery, contactPage, contactView, createAddressBookRequest,
  createContactRequest, directoryPage, directoryQuery, exportContactsQuery, importContactsReport, importContactsRequest, updateAddressBookRequest,
  updateContactRequest,
} from '@dizi/contracts/address-book.contract';

export class CreateAddressBookDto extends createZodDto(createAddressBookRequest) {}
export class UpdateAddressBookDto extends createZodDto(updateAddressBookRequest) {}
export class AddressBookListQueryDto extends createZodDto(addressBookListQuery) {}
export class AddressBookDto extends createZodDto(addressBookView) {}
export class AddressBookPageDto extends createZodDto(addressBookPage) {}
export class CreateContactDto extends createZodDto(createContactRequest) {}
export class UpdateContactDto extends createZodDto(updateContactRequest) {}
export class ContactListQueryDto extends createZodDto(contactListQuery) {}
export class ContactDto extends createZodDto(contactView) {}
export class ContactPageDto extends createZodDto(contactPage) {}
export class DirectoryQueryDto extends createZodDto(directoryQuery) {}
export class DirectoryPageDto extends createZodDto(directoryPage) {}
export class ImportContactsDto extends createZodDto(importContactsRequest) {}
export class ImportContactsReportDto extends createZodDto(importContactsReport) {}
export class ExportContactsQueryDto extends createZodDto(exportContactsQuery) {}
