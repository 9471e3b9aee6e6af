/**
 * Delivery status notifications of the outbound queue, spooled like any other message (source `system`,
 * null sender) so they reach a local sender's mailbox through local delivery, or a remote sender through
 * the outbound queue. The spool rows go in the caller's transaction, with the status change they report.
 */
import { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { addressKey, domainKey } from '@dizi/domain/lookup-key';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { buildDsn, type DsnRecipient } from '@dizi/smtp/dsn';

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

/** A DSN stored as a blob and ready to be spooled. */
export interface PreparedBounce {
  to: string;
  blobHash: string;
  size: number;
  summary: unknown;
  /** failed: a non-delivery report (maybe with other statuses); delayed: a delay notice; success: delivered/relayed only. */
  action: 'failed' | 'delayed' | 'success';
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

/**
 * Spools a prepared DSN in the caller's transaction; returns the new spool message id and whether its one
 * recipient is local (then local delivery takes it, else the outbound queue).
 */
export async function spoolBounce(client: Pick<PoolClient, 'query'>, bounce: PreparedBounce, reportingMta: string): Promise<{ id: string; local: boolean; domain: string }> {
  const at = bounce.to.lastIndexOf('@');
  const domain = domainKey(bounce.to.slice(at + 1));
  const local = (await client.query(`SELECT 1 FROM domain WHERE name = $1`, [domain])).rowCount! > 0;
  const { rows } = await client.query(
    `INSERT INTO spool_message (blob_hash, size, mail_from, source, helo, summary)
     VALUES ($1, $2, '', 'system', $3, $4) RETURNING id`,
    [bounce.blobHash, bounce.size, reportingMta, JSON.stringify(bounce.summary)],
  );
  // NOTIFY=NEVER: a notice about a notice would loop.
  await client.query(
    `INSERT INTO spool_recipient (message_id, address, kind, domain, dsn_notify) VALUES ($1, $2, $3, $4, 'NEVER')`,
    [rows[0].id, addressKey(bounce.to), local ? 'local' : 'remote', domain],
  );
  return { id: rows[0].id, local, domain };
}
