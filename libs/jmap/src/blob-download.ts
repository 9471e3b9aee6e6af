/** Blob download (RFC 8620 §6.2): a whole message (as served: header prefix + blob) or one decoded leaf part of it. */
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import { decodedBody, leaves, parseMessage } from './email-parser';
import { parseBlobId } from './email-view';
import type { JmapAccount } from './method';

/** null when the account has no such blob. */
export async function readBlob(store: MessageStore, account: JmapAccount, blobId: string): Promise<Buffer | null> {
  const id = parseBlobId(blobId);
  if (!id) return null;
  const [record] = await store.messagesById(account.mailboxId, [id.messageId], { withSummary: false, withSource: true });
  if (!record) return null;
  const source = await store.readMessage(record);
  if (id.partId === null) return source;
  const part = leaves(parseMessage(source)).find((p) => p.partId === id.partId);
  return part ? decodedBody(source, part) : null;
}
