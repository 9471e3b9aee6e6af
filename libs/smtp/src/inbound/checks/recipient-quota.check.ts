/**
 * RCPT: a full mailbox. RFC 3463 defines X.2.2 "mailbox full" as a persistent *transient* failure (the
 * owner can make room), so a mailbox at or over its quota, or one the declared SIZE would overflow, gets
 * 452 4.2.2: the sending MTA keeps retrying and bounces only after its queue lifetime. A message whose
 * declared SIZE is larger than the whole quota can never fit: 552 5.2.2 ("exceeded storage allocation",
 * RFC 5321 §4.2.2). Per RFC 5321 §4.5.3.1.10 some clients read 552 at RCPT as temporary; that only
 * delays their bounce. Aliases and groups are checked per member when delivered.
 */
import type { Check, RcptInput } from '../pipeline';
import { CONTINUE, defer, reject } from '../verdict';

export const recipientQuotaCheck: Check<RcptInput> = {
  name: 'recipient-quota',
  async run({ declaredSize, resolution }) {
    const r = await resolution();
    if (r.kind !== 'local' || !r.mailbox) return CONTINUE;
    const { quotaBytes, usedBytes } = r.mailbox;
    if (declaredSize !== null && declaredSize > quotaBytes) return reject(552, '5.2.2', 'Message is larger than the recipient mailbox quota');
    if (usedBytes >= quotaBytes || (declaredSize !== null && usedBytes + declaredSize > quotaBytes)) {
      return defer(452, '4.2.2', 'Recipient mailbox is full, try again later');
    }
    return CONTINUE;
  },
};
