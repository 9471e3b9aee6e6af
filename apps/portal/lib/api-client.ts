/**
 * The one typed client of the REST API, shared by server components (straight to the API with the session's
 * token) and client components (through the portal's /bff route). Types come from libs/contracts, the same
 * zod schemas the API validates and documents with.
 */
import type { z } from 'zod';
import type { actorView } from '@dizi/contracts/auth.contract';
import type {
  addressBookListQuery, addressBookPage, addressBookView, contactListQuery, contactPage, contactView, createAddressBookRequest, createContactRequest, updateContactRequest,
  importContactsReport, importContactsRequest,
} from '@dizi/contracts/address-book.contract';
import type { aliasListQuery, aliasPage, aliasView, createAliasRequest, updateAliasRequest } from '@dizi/contracts/alias.contract';
import type { apiKeyListQuery, apiKeyPage, apiKeyView, createApiKeyRequest, createdApiKeyView } from '@dizi/contracts/api-key.contract';
import type { auditListQuery, auditPage } from '@dizi/contracts/audit.contract';
import type {
  createRegistrationCodeRequest, issuedRegistrationCodeView, registrationCodeListQuery, registrationCodePage, registrationCodeView,
} from '@dizi/contracts/registration-code.contract';
import type { createGroupRequest, groupListQuery, groupMemberPage, groupMembersChange, groupPage, groupView, updateGroupRequest } from '@dizi/contracts/group.contract';
import type { mailTemplates, mailTemplatesView, SmtpSettingsPatch, smtpSettingsView, templatePreview, TemplatePreviewRequest } from '@dizi/contracts/settings.contract';
import type { sendAsIdentityView, sendAsListView } from '@dizi/contracts/mailbox-send-as.contract';
import type { nodeList } from '@dizi/contracts/node.contract';
import type { errorBody } from '@dizi/contracts/common.contract';
import type { createDomainRequest, domainDnsCheckView, domainListQuery, domainPage, domainView, updateDomainRequest } from '@dizi/contracts/domain.contract';
import type {
  bulkDeleteResult, createdMailboxView, createMailboxRequest, generatedPasswordView, updateMailboxRequest, importJobView, importRowPage, importRowsQuery, mailboxListQuery, mailboxPage, mailboxView,
} from '@dizi/contracts/mailbox.contract';
import type { mailLogPage, mailLogQuery } from '@dizi/contracts/mail-log.contract';
import type { queueActionRequest, queueActionResult, queueEntryView, queueListQuery, queuePage } from '@dizi/contracts/queue.contract';
import type { dashboardQuery, dashboardView } from '@dizi/contracts/stats.contract';
import type { createTenantRequest, tenantListQuery, tenantPage, tenantView, updateTenantRequest } from '@dizi/contracts/tenant.contract';

export type Actor = z.infer<typeof actorView>;
export type Tenant = z.infer<typeof tenantView>;
export type TenantPage = z.infer<typeof tenantPage>;
export type Domain = z.infer<typeof domainView>;
export type DomainPage = z.infer<typeof domainPage>;
export type DomainDnsCheck = z.infer<typeof domainDnsCheckView>;
export type Mailbox = z.infer<typeof mailboxView>;
export type MailboxPage = z.infer<typeof mailboxPage>;
export type Alias = z.infer<typeof aliasView>;
export type AliasPage = z.infer<typeof aliasPage>;
export type Group = z.infer<typeof groupView>;
export type GroupPage = z.infer<typeof groupPage>;
export type GroupMemberPage = z.infer<typeof groupMemberPage>;
export type GroupMembersChange = z.infer<typeof groupMembersChange>;
export type SendAsList = z.infer<typeof sendAsListView>;
export type SmtpSettingsView = z.infer<typeof smtpSettingsView>;
export type MailTemplatesView = z.infer<typeof mailTemplatesView>;
export type TemplatePreview = z.infer<typeof templatePreview>;
export type RegistrationCode = z.infer<typeof registrationCodeView>;
export type RegistrationCodePage = z.infer<typeof registrationCodePage>;
export type IssuedRegistrationCode = z.infer<typeof issuedRegistrationCodeView>;
export type ApiKey = z.infer<typeof apiKeyView>;
export type ApiKeyPage = z.infer<typeof apiKeyPage>;
export type CreatedApiKey = z.infer<typeof createdApiKeyView>;
export type AddressBook = z.infer<typeof addressBookView>;
export type AddressBookPage = z.infer<typeof addressBookPage>;
export type Contact = z.infer<typeof contactView>;
export type ContactPage = z.infer<typeof contactPage>;
export type ContactImportReport = z.infer<typeof importContactsReport>;
export type ImportJob = z.infer<typeof importJobView>;
export type ImportRowPage = z.infer<typeof importRowPage>;
export type Dashboard = z.infer<typeof dashboardView>;
export type MailLogPage = z.infer<typeof mailLogPage>;
export type QueuePage = z.infer<typeof queuePage>;
export type QueueEntry = z.infer<typeof queueEntryView>;
export type QueueActionResult = z.infer<typeof queueActionResult>;
export type ErrorBody = z.infer<typeof errorBody>;
export type AuditPage = z.infer<typeof auditPage>;
export type NodeList = z.infer<typeof nodeList>;

/** Sends one request to the API (or the portal's relay to it) and returns the raw response. */
export type Transport = (method: string, path: string, body?: unknown) => Promise<Response>;

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: Partial<ErrorBody>,
  ) {
    super(body.message ?? `HTTP ${status}`);
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

function qs(query: Query | undefined): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function apiClient(transport: Transport) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await transport(method, path, body);
    const text = await res.text();
    const parsed = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiRequestError(res.status, parsed ?? { message: text || res.statusText });
    return parsed as T;
  }
  const id = encodeURIComponent;
  return {
    me: () => call<Actor>('GET', '/api/auth/me'),
    dashboard: (q?: Partial<z.infer<typeof dashboardQuery>>) => call<Dashboard>('GET', `/api/stats/dashboard${qs(q)}`),
    tenants: {
      list: (q?: Partial<z.infer<typeof tenantListQuery>>) => call<TenantPage>('GET', `/api/tenants${qs(q)}`),
      get: (tenantId: string) => call<Tenant>('GET', `/api/tenants/${id(tenantId)}`),
      create: (body: z.input<typeof createTenantRequest>) => call<Tenant>('POST', '/api/tenants', body),
      update: (tenantId: string, body: z.input<typeof updateTenantRequest>) => call<Tenant>('PATCH', `/api/tenants/${id(tenantId)}`, body),
      suspend: (tenantId: string) => call<Tenant>('POST', `/api/tenants/${id(tenantId)}/suspend`),
      resume: (tenantId: string) => call<Tenant>('POST', `/api/tenants/${id(tenantId)}/resume`),
      remove: (tenantId: string, confirm: string) => call<void>('DELETE', `/api/tenants/${id(tenantId)}`, { confirm }),
    },
    domains: {
      list: (q?: Partial<z.infer<typeof domainListQuery>>) => call<DomainPage>('GET', `/api/domains${qs(q)}`),
      get: (domain: string) => call<Domain>('GET', `/api/domains/${id(domain)}`),
      create: (body: z.input<typeof createDomainRequest>) => call<Domain>('POST', '/api/domains', body),
      update: (domain: string, body: z.input<typeof updateDomainRequest>) => call<Domain>('PATCH', `/api/domains/${id(domain)}`, body),
      checkDns: (domain: string) => call<DomainDnsCheck>('GET', `/api/domains/${id(domain)}/dns/check`),
    },
    mailboxes: {
      list: (q?: Partial<z.infer<typeof mailboxListQuery>>) => call<MailboxPage>('GET', `/api/mailboxes${qs(q)}`),
      create: (body: z.input<typeof createMailboxRequest>) => call<z.infer<typeof createdMailboxView>>('POST', '/api/mailboxes', body),
      suspend: (mailboxId: string) => call<Mailbox>('POST', `/api/mailboxes/${id(mailboxId)}/suspend`),
      resume: (mailboxId: string) => call<Mailbox>('POST', `/api/mailboxes/${id(mailboxId)}/resume`),
      resetPassword: (mailboxId: string) => call<z.infer<typeof generatedPasswordView>>('POST', `/api/mailboxes/${id(mailboxId)}/password/reset`),
      update: (mailboxId: string, body: z.input<typeof updateMailboxRequest>) => call<Mailbox>('PATCH', `/api/mailboxes/${id(mailboxId)}`, body),
      removeMany: (ids: string[]) => call<z.infer<typeof bulkDeleteResult>>('POST', '/api/mailboxes/delete', { ids }),
      sendAs: (mailbox: string) => call<SendAsList>('GET', `/api/mailboxes/${id(mailbox)}/send-as`),
      grantSendAs: (mailbox: string, address: string) => call<z.infer<typeof sendAsIdentityView>>('POST', `/api/mailboxes/${id(mailbox)}/send-as`, { address }),
      revokeSendAs: (mailbox: string, address: string) => call<void>('DELETE', `/api/mailboxes/${id(mailbox)}/send-as/${id(address)}`),
    },
    aliases: {
      list: (q?: Partial<z.infer<typeof aliasListQuery>>) => call<AliasPage>('GET', `/api/aliases${qs(q)}`),
      create: (body: z.input<typeof createAliasRequest>) => call<Alias>('POST', '/api/aliases', body),
      update: (alias: string, body: z.input<typeof updateAliasRequest>) => call<Alias>('PATCH', `/api/aliases/${id(alias)}`, body),
      remove: (alias: string) => call<void>('DELETE', `/api/aliases/${id(alias)}`),
    },
    groups: {
      list: (q?: Partial<z.infer<typeof groupListQuery>>) => call<GroupPage>('GET', `/api/groups${qs(q)}`),
      get: (group: string) => call<Group>('GET', `/api/groups/${id(group)}`),
      create: (body: z.input<typeof createGroupRequest>) => call<Group>('POST', '/api/groups', body),
      update: (group: string, body: z.input<typeof updateGroupRequest>) => call<Group>('PATCH', `/api/groups/${id(group)}`, body),
      remove: (group: string) => call<void>('DELETE', `/api/groups/${id(group)}`),
      members: (group: string, q?: { offset?: number; limit?: number }) => call<GroupMemberPage>('GET', `/api/groups/${id(group)}/members${qs(q)}`),
      addMembers: (group: string, members: string[]) => call<GroupMembersChange>('POST', `/api/groups/${id(group)}/members`, { members }),
      removeMembers: (group: string, members: string[]) => call<GroupMembersChange>('DELETE', `/api/groups/${id(group)}/members`, { members }),
    },
    imports: {
      get: (jobId: string) => call<ImportJob>('GET', `/api/imports/${id(jobId)}`),
      rows: (jobId: string, q?: Partial<z.infer<typeof importRowsQuery>>) => call<ImportRowPage>('GET', `/api/imports/${id(jobId)}/rows${qs(q)}`),
    },
    settings: {
      smtp: () => call<SmtpSettingsView>('GET', '/api/settings/smtp'),
      updateSmtp: (patch: SmtpSettingsPatch) => call<SmtpSettingsView>('PATCH', '/api/settings/smtp', patch),
      templates: () => call<MailTemplatesView>('GET', '/api/settings/templates'),
      updateTemplates: (body: z.input<typeof mailTemplates>) => call<MailTemplatesView>('PUT', '/api/settings/templates', body),
      previewTemplate: (body: TemplatePreviewRequest) => call<TemplatePreview>('POST', '/api/settings/templates/preview', body),
    },
    registrationCodes: {
      list: (q?: Partial<z.infer<typeof registrationCodeListQuery>>) => call<RegistrationCodePage>('GET', `/api/registration-codes${qs(q)}`),
      issue: (body: z.input<typeof createRegistrationCodeRequest>) => call<IssuedRegistrationCode>('POST', '/api/registration-codes', body),
      revoke: (codeId: string) => call<RegistrationCode>('POST', `/api/registration-codes/${id(codeId)}/revoke`),
    },
    apiKeys: {
      list: (q?: Partial<z.infer<typeof apiKeyListQuery>>) => call<ApiKeyPage>('GET', `/api/api-keys${qs(q)}`),
      create: (body: z.input<typeof createApiKeyRequest>) => call<CreatedApiKey>('POST', '/api/api-keys', body),
      revoke: (keyId: string) => call<void>('DELETE', `/api/api-keys/${id(keyId)}`),
    },
    addressBooks: {
      list: (q?: Partial<z.infer<typeof addressBookListQuery>>) => call<AddressBookPage>('GET', `/api/address-books${qs(q)}`),
      create: (body: z.input<typeof createAddressBookRequest>) => call<AddressBook>('POST', '/api/address-books', body),
      contacts: (bookId: string, q?: Partial<z.infer<typeof contactListQuery>>) => call<ContactPage>('GET', `/api/address-books/${id(bookId)}/contacts${qs(q)}`),
      addContact: (bookId: string, body: z.input<typeof createContactRequest>) => call<Contact>('POST', `/api/address-books/${id(bookId)}/contacts`, body),
      updateContact: (bookId: string, contactId: string, body: z.input<typeof updateContactRequest>) =>
        call<Contact>('PATCH', `/api/address-books/${id(bookId)}/contacts/${id(contactId)}`, body),
      removeContact: (bookId: string, contactId: string) => call<void>('DELETE', `/api/address-books/${id(bookId)}/contacts/${id(contactId)}`),
      importContacts: (bookId: string, body: z.input<typeof importContactsRequest>) =>
        call<ContactImportReport>('POST', `/api/address-books/${id(bookId)}/contacts/import`, body),
      /** The book as a vCard file's text. */
      exportVCards: async (bookId: string, version: '3.0' | '4.0') => {
        const res = await transport('GET', `/api/address-books/${id(bookId)}/contacts/export${qs({ version })}`);
        const text = await res.text();
        if (!res.ok) throw new ApiRequestError(res.status, (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : { message: text || res.statusText });
        return text;
      },
    },
    nodes: () => call<NodeList>('GET', '/api/nodes'),
    audit: (q?: Partial<z.infer<typeof auditListQuery>>) => call<AuditPage>('GET', `/api/audit${qs(q)}`),
    mailLog: (q?: Partial<z.infer<typeof mailLogQuery>>) => call<MailLogPage>('GET', `/api/logs/mail${qs(q)}`),
    queue: (q?: Partial<z.infer<typeof queueListQuery>>) => call<QueuePage>('GET', `/api/queue${qs(q)}`),
    queueEntry: (entryId: string) => call<QueueEntry>('GET', `/api/queue/${id(entryId)}`),
    queueAction: (body: z.input<typeof queueActionRequest>) => call<QueueActionResult>('POST', '/api/queue/actions', body),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;
