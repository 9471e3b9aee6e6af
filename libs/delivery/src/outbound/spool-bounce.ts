/**
 * Delivery status notifications of the outbound queue, spooled like any other message (source `system`,
 * null sender) so they reach a local sender's mailbox through local delivery, or a remote sender through
 * the outbound queue. The spool rows go in the caller's transaction, with the status change they report
 * (SpoolTransaction.spoolBounce).
 */
import { Readable } from 'node:stream';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { buildDsn, type DsnRecipient } from '@dizi/smtp/dsn';
import type { PreparedBounce } from '../ports/spool-store';

export type { PreparedBounce } from '../ports/spool-store';

/** The returned original is cut to its header block above this size, whatever RET says. */
export const MAX_RETURNED_MESSAGE_BYTES = 1024 * 1024;

export interface BounceOriginal {
  id: string;
  mailFrom: string;
  receivedAt: Date;
  envId: string | null;
  /** RET of the original submission; null: the whole message when it is small. */
  ret: 'FULL' | 'HDRS' | null;
  size: number;
  headers: Buffer;
  /** Reads the whole original (only called when it goes back whole). */
  open: () => Promise<Readable>;
  messageId: string | null;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Builds the DSN and stores its blob (outside any transaction: the blob is leased until spooled). */
export async function prepareBounce(
  store: Pick<MessageStore, 'putBlob'>,
  reportingMta: string,
  original: BounceOriginal,
  recipients: DsnRecipient[],
  now: Date,
): Promise<PreparedBounce> {
  const full = original.ret !== 'HDRS' && original.size <= MAX_RETURNED_MESSAGE_BYTES && recipients.some((r) => r.action === 'failed');
  const dsn = buildDsn({
    reportingMta,
    to: original.mailFrom,
    recipients,
    originalHeaders: original.headers,
    originalMessage: full ? await readAll(await original.open()) : null,
    originalMessageId: original.messageId,
    envId: original.envId,
    arrivalDate: original.receivedAt,
    date: now,
  });
  const blob = await store.putBlob(Readable.from([dsn.raw]));
  const summary = await summariseMessage(dsn.raw);
  const action = recipients.some((r) => r.action === 'failed') ? 'failed' : recipients.every((r) => r.action === 'delayed') ? 'delayed' : 'success';
  return { to: original.mailFrom, blobHash: blob.hash, size: blob.size, summary, action };
}
