import { PassThrough, type Writable } from 'node:stream';
import { searchKeyList, type SearchKeyList } from '@dizi/domain/search-key';
import { FolderNotFoundError, type SortFields } from '@dizi/mail-store/ports/message-store';
import type { StoredBlob } from '@dizi/mail-store/ports/blob-store';
import { encodeBinaryParts } from '@dizi/mime/binary-parts';
import { searchTextParts, summariseMessage, type MessageSummary } from '@dizi/mime/message-summary';
import { searchTokensOf } from '@dizi/mime/search-tokens';
import { AUTHENTICATED, defineCommand } from '../command';
import { bad, no } from '../imap-error';
import type { StoredSummary } from '../message-access';
import type { ImapArg } from '../parser/command-parser';
import type { Session } from '../session';
import { parseInternalDate } from '../wire';

interface StoredLiteral {
  blob: StoredBlob;
  summary: MessageSummary;
}

/**
 * The APPEND literal goes to the blob store and the MIME summariser while it arrives; nothing is buffered whole.
 * A literal8 (`~{n}`, RFC 3516) has its binary parts stored in base64 on the way (libs/mime binary-parts.ts).
 */
export function openMessageSink(session: Session, size: number, binary: boolean): { sink: Writable; result: Promise<StoredLiteral> } {
  const sink = new PassThrough();
  if (session.state === 'not-authenticated') {
    sink.resume();
    return { sink, result: Promise.reject(bad('Log in first')) };
  }
  const toBlob = new PassThrough();
  const toSummary = new PassThrough();
  const message = binary ? encodeBinaryParts(sink) : sink;
  message.on('error', (err) => {
    toBlob.destroy(err);
    toSummary.destroy(err);
  });
  message.pipe(toBlob);
  message.pipe(toSummary);
  const result = Promise.all([
    session.store.putBlob(toBlob, { maxBytes: session.settings.maxAppendBytes }),
    summariseMessage(toSummary),
  ]).then(([blob, summary]) => ({ blob, summary }));
  result.catch(() => {
    toBlob.resume();
    toSummary.resume();
  });
  void size;
  return { sink, result };
}

export function storedParts(summary: MessageSummary): { summary: StoredSummary; sortFields: SortFields; searchKeys: SearchKeyList } {
  const { searchText, ...rest } = summary;
  const addr = (a: { name: string; address: string } | null | undefined) => (a ? a.address : null);
  return {
    summary: rest,
    sortFields: {
      subject: summary.subject,
      baseSubject: summary.baseSubject,
      from: addr(summary.from),
      to: addr(summary.to[0]),
      cc: addr(summary.cc[0]),
      sentDate: summary.date,
      messageId: summary.messageId,
      inReplyTo: summary.inReplyTo,
      references: summary.references,
      attachmentNames: summary.attachmentNames,
    },
    // The decoded parts as they are (ASCII ones as bytes): no string of the whole body is made for them.
    searchKeys: searchKeyList(searchTokensOf(searchTextParts(searchText))),
  };
}

export const appendCommand = defineCommand({
  name: 'APPEND',
  states: AUTHENTICATED,
  args: ['mailbox', 'rest'],
  async handle({ session }, [name, rest]) {
    const args = rest as ImapArg[];
    let i = 0;
    let flags: string[] = [];
    let date: Date | undefined;
    if (args[i]?.type === 'list') {
      flags = (args[i] as { items: ImapArg[] }).items.map((f) => {
        if (f.type !== 'atom') throw bad('Flags are atoms');
        return f.value;
      });
      i++;
    }
    const dateArg = args[i];
    if (dateArg && dateArg.type === 'string') {
      const parsed = parseInternalDate(dateArg.value);
      if (!parsed) throw bad('Invalid date-time');
      date = parsed;
      i++;
    }
    const message = args[i];
    if (!message || message.type !== 'stream' || i !== args.length - 1) {
      if (message && message.type === 'string') throw bad('The message must be a literal');
      throw bad('APPEND needs a message literal');
    }
    const stored = (await message.result) as StoredLiteral;
    if (stored.blob.size === 0) throw no('Empty message');
    const parts = storedParts(stored.summary);
    const folder = name as string;
    let result;
    try {
      result = await session.store.append(session.mailboxId!, { name: folder }, {
        blobHash: stored.blob.hash,
        flags: flags.filter((f) => f.toLowerCase() !== '\\recent'),
        internalDate: date,
        summary: parts.summary,
        sortFields: parts.sortFields,
        searchKeys: parts.searchKeys,
      }, { enforceQuota: true });
    } catch (err) {
      if (err instanceof FolderNotFoundError) throw no('Mailbox does not exist', 'TRYCREATE');
      throw err;
    }
    if (session.selected?.folder.id === result.folderId) session.selected.dirty = true;
    return `[APPENDUID ${result.uidValidity} ${result.uid}] Append completed`;
  },
});
