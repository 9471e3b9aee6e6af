/**
 * Fills a folder with many messages the fast way, as bench/imap does: blobs and summaries in parallel, rows with
 * appendMany in batches. The messages vary in shape (plain, 8-bit Chinese, multipart with an attachment) and size.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { storedParts } from '@dizi/imap/commands/append.command';
import type { Delivery, MessageStore, NewMessage, NumberRange } from '@dizi/mail-store/ports/message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { inParallel } from '@dizi/testing/in-parallel';

const WORDS = ('the project team will review quarterly figures before shipping release notes to customers and partners please '
  + 'confirm schedule budget travel plans attached summary draft contract weekly update server migration').split(' ');

/** Message `i` of a test mailbox: deterministic, unique (Message-ID and first line), CRLF throughout. */
export function syncTestMessage(i: number, tag = 'server'): Buffer {
  const words = (n: number) => Array.from({ length: n }, (_, k) => WORDS[(i * 7 + k * 13) % WORDS.length]).join(' ');
  const lines = Array.from({ length: 3 + (i % 40) }, (_, k) => `${words(6 + ((i + k) % 9))}.`);
  const head = `From: Sender ${i % 37} <sender${i % 37}@remote.example>\r\nTo: Sync Test <sync@acme.test>\r\n`
    + `Date: Mon, ${1 + (i % 28)} Dec 2025 10:${String(i % 60).padStart(2, '0')}:00 +0000\r\n`
    + `Message-ID: <${tag}-${i}@sync.example>\r\nMIME-Version: 1.0\r\n`;
  const first = `Message ${tag} number ${i}.`;
  if (i % 11 === 0) {
    return Buffer.from(`${head}Subject: =?UTF-8?B?${Buffer.from(`同步测试 ${i}`).toString('base64')}?=\r\n`
      + `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${first}\r\n北京市海淀区的会议通知。\r\n${lines.join('\r\n')}\r\n`);
  }
  if (i % 7 === 0) {
    const attachment = createHash('sha512').update(`attachment ${i}`).digest();
    const b = `sync-${i}-boundary`;
    return Buffer.from(`${head}Subject: With attachment ${i}\r\nContent-Type: multipart/mixed; boundary="${b}"\r\n\r\n`
      + `--${b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${first}\r\n${lines.join('\r\n')}\r\n`
      + `--${b}\r\nContent-Type: application/octet-stream; name="data-${i}.bin"\r\nContent-Disposition: attachment; filename="data-${i}.bin"\r\n`
      + `Content-Transfer-Encoding: base64\r\n\r\n${Buffer.concat(Array(8).fill(attachment)).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--${b}--\r\n`);
  }
  return Buffer.from(`${head}Subject: Weekly update ${i}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${first}\r\n${lines.join('\r\n')}\r\n`);
}

/** Server flags of message `i` before the first sync: every system flag a Maildir can carry, on a known share. */
export function initialFlags(i: number): string[] {
  const flags: string[] = [];
  if (i % 3 === 0) flags.push('\\Seen');
  if (i % 10 === 0) flags.push('\\Flagged');
  if (i % 13 === 0) flags.push('\\Answered');
  if (i % 17 === 0) flags.push('\\Draft');
  return flags;
}

/** Blobs, summaries and search words of messages 0..count-1, ready for appendMany into any number of folders. */
export async function prepareMessages(store: MessageStore, count: number, tag: string): Promise<NewMessage[]> {
  return inParallel(count, 16, async (i) => {
    const raw = syncTestMessage(i, tag);
    const [parts, blob] = await Promise.all([summariseMessage(raw).then(storedParts), store.putBlob(Readable.from([raw]))]);
    return { blobHash: blob.hash, ...parts, internalDate: new Date(Date.UTC(2025, 11, 1) + i * 60_000) };
  });
}

/** Appends the prepared messages to the folder (UIDs in message order) and sets their initial flags. */
export async function fillFolder(store: MessageStore, mailboxId: string, folderId: string, prepared: NewMessage[]): Promise<void> {
  for (let i = 0; i < prepared.length; i += 500) {
    const batch: Delivery[] = prepared.slice(i, i + 500).map((message) => ({ mailboxId, folder: { id: folderId }, message, enforceQuota: false }));
    const outcomes = await store.appendMany(batch);
    const failed = outcomes.find((o) => !o.ok);
    if (failed && !failed.ok) throw failed.error;
  }
  const { uidNext } = await store.folderStatus(folderId);
  const firstUid = uidNext - prepared.length;
  const byFlag = new Map<string, NumberRange[]>();
  for (let i = 0; i < prepared.length; i++) {
    for (const f of initialFlags(i)) {
      const list = byFlag.get(f) ?? [];
      list.push({ from: firstUid + i, to: firstUid + i });
      byFlag.set(f, list);
    }
  }
  for (const [flag, uids] of byFlag) await store.setFlags(folderId, uids, 'add', [flag]);
}
