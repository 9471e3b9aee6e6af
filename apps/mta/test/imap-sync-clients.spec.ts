/**
 * Full two-way syncs of a 5,000-message INBOX with real Maildir clients — isync's mbsync and offlineimap3 — over
 * implicit TLS, checked message by message on both sides: bytes, count and flags, after a first full sync and again
 * after changes on both sides (flags and deletions locally plus a new local message; new mail, a flag change and an
 * expunge on the server).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedParts } from '@dizi/imap/commands/append.command';
import type { MessageRecord, NewMessage } from '@dizi/mail-store/ports/message-store';
import { summariseMessage } from '@dizi/mime/message-summary';
import { startTestNode, TEST_MAILBOX_PASSWORD, type TestNode } from './harness';
import { inParallel } from '@dizi/testing/in-parallel';
import { fillFolder, initialFlags, prepareMessages, syncTestMessage } from './imap-sync/fill-mailbox';
import { addMaildirMessage, deleteMaildirMessage, readMaildir, setMaildirFlags, type MaildirMessage } from './imap-sync/maildir';
import { mbsync, offlineimap, type SyncClient } from './imap-sync/sync-clients';
import type { ImapRunningRole } from '../src/roles/imap.role';

const MESSAGES = Number(process.env.SYNC_TEST_MESSAGES ?? 5000);
const SYSTEM_FLAGS = ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen'];

let node: TestNode;
let imaps: number;
let certFile: string;
let dir: string;
let domainId: string;
/** The 5,000 messages, stored once as blobs with their summaries; each test appends them to its own INBOX. */
let prepared: NewMessage[];
let prepareMs: number;

beforeAll(async () => {
  node = await startTestNode({ roles: ['imap'] });
  imaps = (node.roles.find((r) => r.name === 'imap') as ImapRunningRole).ports.imaps;
  // tmpfs when there is one: the clients fsync their Maildir and state (offlineimap commits SQLite per message).
  dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'dizi-imap-sync-'));
  certFile = join(dir, 'server-cert.pem');
  await writeFile(certFile, node.ctx.tls.cert);
  const tenant = await node.seed.tenant('Sync');
  domainId = (await node.seed.domain(tenant.id, 'acme.test')).id;
  const started = performance.now();
  prepared = await prepareMessages(node.ctx.store, MESSAGES, 'sync');
  prepareMs = performance.now() - started;
}, 240_000);

afterAll(async () => {
  await node?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface ServerMessage {
  uid: number;
  bytes: Buffer;
  flags: string[];
}

/** Maildir keeps LF line ends; IMAP serves CRLF. */
const toLf = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
const toCrlf = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
/**
 * mbsync writes an X-TUID header (12 characters) at the end of the header of every message it copies, to find it again
 * after an interrupted run (isync's documented behaviour); everything else stays as it was.
 */
function withoutTuid(b: Buffer): Buffer {
  const text = b.toString('latin1');
  const headerEnd = text.search(/\r?\n\r?\n/);
  const m = /(^|\n)X-TUID: [A-Za-z0-9+/]{12}\r?\n/.exec(text.slice(0, headerEnd + 2));
  return m ? Buffer.from(text.slice(0, m.index + m[1].length) + text.slice(m.index + m[0].length), 'latin1') : b;
}
const messageId = (b: Buffer) => /^Message-ID:\s*(<[^>]+>)/im.exec(b.toString('latin1'))?.[1] ?? '';
const systemFlags = (flags: string[]) => flags.filter((f) => SYSTEM_FLAGS.includes(f)).sort();

/** A stored message never changes its bytes: read each once. */
const sources = new Map<string, Buffer>();

async function readServer(mailboxId: string): Promise<ServerMessage[]> {
  const inbox = await node.ctx.store.getFolder(mailboxId, { name: 'INBOX' });
  const records: MessageRecord[] = await node.ctx.store.listMessages(inbox.id, { withSummary: false });
  return inParallel(records.length, 8, async (i) => {
    const r = records[i];
    let bytes = sources.get(r.id);
    if (!bytes) {
      const chunks: Buffer[] = [];
      for await (const c of await node.ctx.store.getMessageSource(r.id)) chunks.push(c as Buffer);
      bytes = Buffer.concat(chunks);
      sources.set(r.id, bytes);
    }
    return { uid: r.uid, bytes, flags: systemFlags(r.flags) };
  });
}

/** Both sides hold the same messages (by Message-ID, each once), byte for byte (line ends aside), with the same flags. */
function expectSameMessages(server: ServerMessage[], local: MaildirMessage[], client: string): Map<string, { server: ServerMessage; local: MaildirMessage }> {
  expect(local.length, `${client}: local count`).toBe(server.length);
  const byId = new Map<string, { server: ServerMessage; local: MaildirMessage }>();
  for (const s of server) byId.set(messageId(s.bytes), { server: s, local: undefined as unknown as MaildirMessage });
  expect(byId.size, `${client}: Message-IDs on the server are unique`).toBe(server.length);
  const mismatches: string[] = [];
  for (const l of local) {
    const id = messageId(l.bytes);
    const pair = byId.get(id);
    if (!pair) {
      mismatches.push(`${id || l.path}: only local`);
      continue;
    }
    if (pair.local) mismatches.push(`${id}: twice locally`);
    pair.local = l;
    if (!toLf(withoutTuid(pair.server.bytes)).equals(withoutTuid(l.bytes))) mismatches.push(`${id}: bytes differ (server ${pair.server.bytes.length}, local ${l.bytes.length})`);
    if (l.flags.join(' ') !== pair.server.flags.join(' ')) mismatches.push(`${id}: flags server [${pair.server.flags}] local [${l.flags}]`);
  }
  expect(mismatches.slice(0, 10), `${client}: ${mismatches.length} mismatches`).toEqual([]);
  return byId;
}

async function serverAppend(mailboxId: string, raw: Buffer, flags: string[] = []): Promise<number> {
  const parts = storedParts(await summariseMessage(raw));
  const blob = await node.ctx.store.putBlob(Readable.from([raw]));
  const result = await node.ctx.store.append(mailboxId, { name: 'INBOX' }, { blobHash: blob.hash, ...parts, flags }, { enforceQuota: true });
  return result.uid;
}

async function twoWaySync(name: string, makeClient: (dir: string, account: { port: number; user: string; password: string; certFile: string }) => SyncClient): Promise<void> {
  const mailbox = await node.seed.mailbox(domainId, name, TEST_MAILBOX_PASSWORD, { quotaBytes: 10 * 1024 ** 3 });
  const inbox = await node.ctx.store.getFolder(mailbox.id, { name: 'INBOX' });
  const filled = performance.now();
  await fillFolder(node.ctx.store, mailbox.id, inbox.id, prepared);
  const fillMs = performance.now() - filled;
  const client = makeClient(join(dir, name), { port: imaps, user: mailbox.address, password: TEST_MAILBOX_PASSWORD, certFile });

  // 1. Full sync down: every message, byte for byte, with its flags.
  const first = await client.sync();
  let server = await readServer(mailbox.id);
  expect(server.length).toBe(MESSAGES);
  const pairs = expectSameMessages(server, readMaildir(client.inbox), name);
  for (let i = 0; i < MESSAGES; i += 997) {
    const pair = pairs.get(`<sync-${i}@sync.example>`)!;
    expect(pair.server.bytes.equals(syncTestMessage(i, 'sync'))).toBe(true);
    expect(pair.local.flags).toEqual(initialFlags(i).sort());
  }

  // 2. Changes on both sides.
  const at = (i: number) => pairs.get(`<sync-${i}@sync.example>`)!;
  // Locally: flags set and cleared, two messages deleted, one new message written.
  const localFlagged = [1, 2, 5];
  for (const i of localFlagged) setMaildirFlags(at(i).local, ['\\Seen', '\\Flagged']);
  setMaildirFlags(at(3).local, []); // was \Seen
  const localDeleted = [4, 8];
  for (const i of localDeleted) deleteMaildirMessage(at(i).local);
  const localNew = syncTestMessage(MESSAGES + 1, `${name}-local`);
  addMaildirMessage(client.inbox, toLf(localNew), `${name}-new`);
  // On the server: new mail, a flag change and an expunge (of messages the client did not touch).
  const serverNew = syncTestMessage(MESSAGES + 2, `${name}-delivered`);
  await serverAppend(mailbox.id, serverNew, ['\\Flagged']);
  await node.ctx.store.setFlags(inbox.id, [{ from: at(10).server.uid, to: at(10).server.uid }], 'replace', ['\\Answered']);
  const serverExpunged = [20, 21];
  for (const i of serverExpunged) await node.ctx.store.setFlags(inbox.id, [{ from: at(i).server.uid, to: at(i).server.uid }], 'add', ['\\Deleted']);
  await node.ctx.store.expunge(inbox.id, serverExpunged.map((i) => ({ from: at(i).server.uid, to: at(i).server.uid })));

  const second = await client.sync();
  server = await readServer(mailbox.id);
  const after = expectSameMessages(server, readMaildir(client.inbox), name);
  expect(server.length).toBe(MESSAGES - localDeleted.length - serverExpunged.length + 2);
  for (const i of [...localDeleted, ...serverExpunged]) expect(after.has(`<sync-${i}@sync.example>`), `message ${i} is gone`).toBe(false);
  for (const i of localFlagged) expect(after.get(`<sync-${i}@sync.example>`)!.server.flags).toEqual(['\\Flagged', '\\Seen']);
  expect(after.get(`<sync-3@sync.example>`)!.server.flags).toEqual([]);
  expect(after.get(`<sync-10@sync.example>`)!.local.flags).toEqual(['\\Answered']);
  const delivered = after.get(messageId(serverNew))!;
  expect(withoutTuid(delivered.local.bytes).equals(toLf(serverNew))).toBe(true);
  expect(delivered.local.flags).toEqual(['\\Flagged']);
  // The uploaded message is stored as the client sent it: the local one with CRLF line ends (and mbsync's X-TUID).
  const uploaded = after.get(messageId(localNew))!;
  expect(withoutTuid(uploaded.server.bytes).equals(localNew)).toBe(true);
  expect(toCrlf(withoutTuid(uploaded.local.bytes)).equals(localNew)).toBe(true);

  // 3. A sync with nothing to do changes nothing.
  const third = await client.sync();
  const unchanged = await readServer(mailbox.id);
  expect(unchanged.map((m) => m.uid)).toEqual(server.map((m) => m.uid));
  expectSameMessages(unchanged, readMaildir(client.inbox), name);
  console.log(`${name}: ${MESSAGES} messages (stored once in ${(prepareMs / 1000).toFixed(1)} s) appended in ${(fillMs / 1000).toFixed(1)} s; full sync ${(first.ms / 1000).toFixed(1)} s, `
    + `two-way sync ${(second.ms / 1000).toFixed(1)} s, idle sync ${(third.ms / 1000).toFixed(1)} s`);
}

describe(`two-way sync of a ${MESSAGES}-message INBOX with real clients`, () => {
  it('mbsync (isync)', async () => {
    await twoWaySync('mbsync', mbsync);
  }, 180_000);

  it('offlineimap3', async () => {
    await twoWaySync('offlineimap', offlineimap);
  }, 180_000);
});
