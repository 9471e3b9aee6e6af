import { z } from 'zod';
import { isoDate, pageOf, pageQuery } from './common.contract';

export const addressBookListQuery = pageQuery.extend({
  domain: z.string().trim().min(1).max(253).optional().describe("domain id or name: only that domain's books"),
  q: z.string().trim().max(200).optional().describe('part of the book name'),
});

const bookName = z.string().trim().min(1, 'the address book name is empty').max(200);

export const createAddressBookRequest = z.object({
  name: bookName,
  domain: z.string().trim().min(1).max(253).optional().describe('domain id or name; absent: a system-wide book (operators only)'),
});

export const updateAddressBookRequest = z.object({ name: bookName }).partial().strict();

export const addressBookView = z.object({
  id: z.string(),
  scope: z.enum(['system', 'domain']),
  tenantId: z.string().nullable(),
  domainId: z.string().nullable(),
  domainName: z.string().nullable(),
  name: z.string(),
  contactCount: z.number().int(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const addressBookPage = pageOf(addressBookView);

const contactFields = z.object({
  displayName: z.string().trim().max(200),
  email: z.string().trim().min(1, 'the email address is empty').max(320),
  phone: z.string().trim().max(64),
  organization: z.string().trim().max(200),
  title: z.string().trim().max(200),
  notes: z.string().trim().max(4000),
});

export const createContactRequest = contactFields.partial().required({ email: true });
export const updateContactRequest = contactFields.partial().strict();

export const contactListQuery = pageQuery.extend({
  q: z.string().trim().max(200).optional().describe('fuzzy match on display name and email'),
});

export const contactView = contactFields.extend({
  id: z.string(),
  bookId: z.string(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const contactPage = pageOf(contactView);

export const directoryQuery = pageQuery.extend({
  q: z.string().trim().max(200).optional().describe('fuzzy match on address and display name'),
});

export const directoryEntry = z.object({ address: z.string(), displayName: z.string() });
export const directoryPage = pageOf(directoryEntry);

export const importContactsRequest = z.object({
  format: z.enum(['csv', 'vcard']).describe('csv: a header row naming an email column (or the export order: name, email, phone, organization, title, notes); vcard: vCard 3.0 or 4.0'),
  content: z.string().min(1, 'the file is empty').max(1_900_000, 'the file is larger than 1.9 MB; split it').describe('the file as text (UTF-8)'),
  existing: z.enum(['skip', 'update']).default('skip').describe('a contact whose email is already in the book: leave it (skip) or overwrite the fields the file fills (update)'),
});

export const importContactsRow = z.object({
  line: z.number().int().describe('line of the file the record starts on'),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  status: z.enum(['created', 'updated', 'skipped', 'failed']),
  message: z.string().describe('why the row failed or was skipped; empty otherwise'),
});

export const importContactsReport = z.object({
  created: z.number().int(),
  updated: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  rows: z.array(importContactsRow),
});

export const exportContactsQuery = z.object({
  version: z.enum(['3.0', '4.0']).default('4.0').describe('vCard version'),
});
