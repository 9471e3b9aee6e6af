// Byte ranges of a stored message (from the summary's part offsets, shifted by the per-recipient header prefix).
import type { Readable } from 'node:stream';
import type { MessageRecord, MessageStore } from '@dizi/mail-store/ports/message-store';
import type { BodyStructure, MessageSummary, PartOffsets } from '@dizi/mime/message-summary';

/** What APPEND and delivery store as the summary: everything but the search text. */
export type StoredSummary = Omit<MessageSummary, 'searchText'>;

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

export function summaryOf(record: MessageRecord): StoredSummary | null {
  const s = record.summary as StoredSummary | null | undefined;
  return s && s.partOffsets ? s : null;
}

/** Octets of the header prefix served before the blob (Delivered-To and such). */
export function prefixLength(record: MessageRecord, summary: StoredSummary): number {
  return Math.max(0, record.size - summary.size);
}

/** [start, end) in the served message; null when the section does not exist. */
export function sectionRange(record: MessageRecord, summary: StoredSummary, key: string, what: 'header' | 'body' | 'mime' | 'all'): { start: number; end: number } | null {
  const off: PartOffsets | undefined = summary.partOffsets[key];
  if (!off) return null;
  const shift = prefixLength(record, summary);
  const top = key === 'TEXT';
  switch (what) {
    case 'header':
    case 'mime':
      return { start: top ? 0 : off.headerStart + shift, end: off.bodyStart + shift };
    case 'body':
      return { start: off.bodyStart + shift, end: off.bodyEnd + shift };
    default:
      return { start: top ? 0 : off.headerStart + shift, end: off.bodyEnd + shift };
  }
}

export async function readRange(store: MessageStore, record: MessageRecord, start: number, end: number): Promise<Buffer> {
  if (end <= start) return Buffer.alloc(0);
  return readAll(await store.getMessageSource(record.id, { start, end: end - 1 }));
}

/** The body structure node of a part number (`1.2`), descending into attached messages. */
export function findPart(structure: BodyStructure, section: string): BodyStructure | null {
  if (section === '') return structure;
  let node: BodyStructure = structure;
  for (const piece of section.split('.')) {
    const n = Number(piece);
    if (node.kind === 'single' && node.message) node = node.message.body;
    if (node.kind === 'multipart') {
      const child = node.children[n - 1];
      if (!child) return null;
      node = child;
    } else if (n !== 1) return null;
  }
  return node;
}
