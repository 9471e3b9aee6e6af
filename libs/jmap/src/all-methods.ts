/** Every method this server answers, one file each under methods/. */
import type { JmapMethod } from './method';
import { coreEcho } from './methods/core-echo';
import { emailChanges } from './methods/email-changes';
import { emailCopy } from './methods/email-copy';
import { emailGet } from './methods/email-get';
import { emailImport } from './methods/email-import';
import { emailParse } from './methods/email-parse';
import { emailQuery } from './methods/email-query';
import { emailQueryChanges } from './methods/email-query-changes';
import { emailSet } from './methods/email-set';
import { emailSubmissionChanges } from './methods/email-submission-changes';
import { emailSubmissionGet } from './methods/email-submission-get';
import { emailSubmissionQuery } from './methods/email-submission-query';
import { emailSubmissionSet } from './methods/email-submission-set';
import { identityChanges, identityGet } from './methods/identity-get';
import { identitySet } from './methods/identity-set';
import { mailboxChanges } from './methods/mailbox-changes';
import { mailboxGet } from './methods/mailbox-get';
import { mailboxQuery } from './methods/mailbox-query';
import { mailboxQueryChanges } from './methods/mailbox-query-changes';
import { mailboxSet } from './methods/mailbox-set';
import { quotaChanges } from './methods/quota-changes';
import { quotaGet } from './methods/quota-get';
import { quotaQuery } from './methods/quota-query';
import { quotaQueryChanges } from './methods/quota-query-changes';
import { searchSnippetGet } from './methods/search-snippet-get';
import { threadChanges } from './methods/thread-changes';
import { threadGet } from './methods/thread-get';
import { vacationResponseGet } from './methods/vacation-response-get';
import { vacationResponseSet } from './methods/vacation-response-set';

export const ALL_METHODS: readonly JmapMethod[] = [
  coreEcho, mailboxGet, mailboxChanges, mailboxQuery, mailboxSet, emailGet, emailChanges, emailQuery, emailSet, emailImport, threadGet, identityGet, identityChanges, identitySet, emailSubmissionSet, emailSubmissionGet, emailSubmissionQuery, emailSubmissionChanges,
  searchSnippetGet, threadChanges, emailParse, emailQueryChanges, mailboxQueryChanges,
  emailCopy, vacationResponseGet, vacationResponseSet, quotaGet, quotaChanges, quotaQuery, quotaQueryChanges,
];
