/** The session resource (RFC 8620 §2): capabilities with their limits, the user's account, and the URLs to use. */
import { createHash } from 'node:crypto';
import { CORE, MAIL, QUOTA, SUBMISSION, VACATION } from './capabilities';
import type { JmapLimits } from './limits';
import type { JmapAccount } from './method';
import { EMAIL_SORT_PROPERTIES } from './methods/email-query';

export interface SessionUrls {
  /** Absolute base, e.g. https://mail.example.com (no trailing slash). */
  base: string;
}

export function sessionState(account: JmapAccount, limits: JmapLimits): string {
  return createHash('sha256').update(JSON.stringify([account.accountId, account.name, limits])).digest('base64url').slice(0, 16);
}

export function buildSession(account: JmapAccount, limits: JmapLimits, urls: SessionUrls): Record<string, unknown> {
  return {
    capabilities: {
      [CORE]: {
        maxSizeUpload: limits.maxSizeUpload,
        maxConcurrentUpload: limits.maxConcurrentUpload,
        maxSizeRequest: limits.maxSizeRequest,
        maxConcurrentRequests: limits.maxConcurrentRequests,
        maxCallsInRequest: limits.maxCallsInRequest,
        maxObjectsInGet: limits.maxObjectsInGet,
        maxObjectsInSet: limits.maxObjectsInSet,
        collationAlgorithms: ['i;ascii-casemap', 'i;unicode-casemap'],
      },
      [MAIL]: {},
      [SUBMISSION]: {},
      [VACATION]: {},
      [QUOTA]: {},
    },
    accounts: {
      [account.accountId]: {
        name: account.name,
        isPersonal: true,
        isReadOnly: false,
        accountCapabilities: {
          [CORE]: {},
          [MAIL]: {
            maxMailboxesPerEmail: 1,
            maxMailboxDepth: null,
            maxSizeMailboxName: 255,
            maxSizeAttachmentsPerEmail: limits.maxSizeUpload,
            emailQuerySortOptions: EMAIL_SORT_PROPERTIES,
            mayCreateTopLevelMailbox: true,
          },
          // Delayed sending: HOLDFOR/HOLDUNTIL (or sendAt) up to maxDelayedSend seconds ahead.
          [SUBMISSION]: { maxDelayedSend: limits.maxDelayedSend, submissionExtensions: limits.maxDelayedSend > 0 ? { FUTURERELEASE: [String(limits.maxDelayedSend)] } : {} },
          [VACATION]: {},
          [QUOTA]: {},
        },
      },
    },
    primaryAccounts: {
      [CORE]: account.accountId, [MAIL]: account.accountId, [SUBMISSION]: account.accountId, [VACATION]: account.accountId, [QUOTA]: account.accountId,
    },
    username: account.name,
    apiUrl: `${urls.base}/jmap/api`,
    downloadUrl: `${urls.base}/jmap/download/{accountId}/{blobId}/{name}?type={type}`,
    uploadUrl: `${urls.base}/jmap/upload/{accountId}`,
    eventSourceUrl: `${urls.base}/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}`,
    state: sessionState(account, limits),
  };
}
