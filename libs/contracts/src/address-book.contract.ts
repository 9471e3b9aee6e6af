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
