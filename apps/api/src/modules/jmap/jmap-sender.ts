/**
 * JMAP EmailSubmission through the submission service (libs/delivery): the SMTP refusal it throws becomes the
 * SetError type RFC 8621 §7.5 names for it. What EmailSubmission/get shows of a sent one is kept in Redis for a week.
 */
import type { Submission } from '@dizi/delivery/submission/submission.service';
import { setError, type SetError } from '@dizi/jmap/errors';
import type Redis from 'ioredis';
import { SUBMISSION_TTL_SECONDS, type JmapSender, type JmapSendRequest } from '@dizi/jmap/submissions';
import { SmtpReplyError } from '@dizi/smtp/inbound/verdict';

export class SubmissionSender implements JmapSender {
  constructor(private readonly submission: Submission, private readonly redis: Redis) {}

  async remember(accountId: string, submission: Record<string, unknown> & { id: string }): Promise<void> {
    await this.redis.set(key(accountId, submission.id), JSON.stringify(submission), 'EX', SUBMISSION_TTL_SECONDS);
  }

  async find(accountId: string, ids: string[]): Promise<Array<Record<string, unknown> & { id: string }>> {
    const valid = ids.filter((id) => /^[0-9a-f-]{36}$/.test(id));
    if (valid.length === 0) return [];
    const raw = await this.redis.mget(valid.map((id) => key(accountId, id)));
    return raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Record<string, unknown> & { id: string });
  }

  async send(req: JmapSendRequest): Promise<{ id: string }> {
    try {
      const { id } = await this.submission.submit({
        user: { mailboxId: req.mailboxId, address: req.address },
        envelope: { mailFrom: req.mailFrom, rcptTo: req.rcptTo },
        message: req.message,
        via: 'jmap',
      });
      return { id };
    } catch (err) {
      if (err instanceof SmtpReplyError) throw submissionSetError(err);
      throw err;
    }
  }
}

export function submissionSetError(err: SmtpReplyError): SetError {
  const { code, enhanced, text } = err.refusal;
  const description = `${code} ${enhanced} ${text}`;
  if (/^From: header/.test(text)) return setError('forbiddenFrom', description);
  if (/^Sender address rejected/.test(text) || /^Null sender/.test(text)) return setError('forbiddenMailFrom', description);
  if (enhanced === '5.3.4') return { ...setError('tooLarge', description), maxSize: Number(/at most (\d+)/.exec(text)?.[1] ?? 0) };
  if (enhanced === '4.5.3') return setError('tooManyRecipients', description);
  if (enhanced === '5.5.1') return setError('noRecipients', description);
  // Per recipient: "<address>: …".
  const address = /^([^\s:]+@[^\s:]+):/.exec(text)?.[1];
  if (address) return { ...setError('invalidRecipients', description), invalidRecipients: [address] };
  return setError('forbiddenToSend', description);
}

function key(accountId: string, id: string): string {
  return `jmap:submission:${accountId}:${id}`;
}
