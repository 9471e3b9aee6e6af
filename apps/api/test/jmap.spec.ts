/**
 * JMAP end to end: the real API on PostgreSQL and Redis, driven by the jmap-jam client; beside it an IMAP server of
 * libs/imap over the same store, blobs and notifier (what a mail node runs), so changes made through one protocol are
 * checked through the other.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ImapFlow } from 'imapflow';
import { JamClient } from 'jmap-jam';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImapServer, type ImapServer } from '@dizi/imap/server';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { RedisNotifier } from '@dizi/mail-store/adapters/redis-notifier';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { until } from '@dizi/testing/until';
import { startTestApi, TEST_PASSWORD, type TestApi } from './harness';
import { createTenant, signedInMailbox, type SignedInMailbox } from './mail-admin-fixture';

const MAIL = 'urn:ietf:params:jmap:mail';
const CORE = 'urn:ietf:params:jmap:core';

let api: TestApi;
let alice: SignedInMailbox;
let imap: ImapServer;
let imapPort: number;
let pool: Pool;
let redis: Redis;
let notifier: RedisNotifier;
let blobs: FsBlobStore;
let blobDir: string;
let jam: JamClient;
let accountId: string;

function message(subject: string, body: string, extra = ''): string {
  return [
    'From: "Bob 李" <bob@example.org>',
    'To: alice@jmap.test',
    `Subject: ${subject}`,
    'Date: Mon, 07 Dec 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@example.org>`,
    'MIME-Version: 1.0',
    extra,
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].filter((l, i) => l !== '' || i > 6).join('\r\n');
}

const ATTACHMENT = Buffer.from('%PDF-1.4 pretend pdf bytes\n');
const MULTIPART = [
  'From: Carol <carol@example.org>',
  'To: alice@jmap.test',
  'Subject: =?UTF-8?B?5Lya6K6u57qq6KaB?=',
  'Date: Tue, 08 Dec 2026 09:00:00 +0800',
  'Message-ID: <multi.1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary="inner"',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Minutes of the meeting =E4=BC=9A=E8=AE=AE, see attached.',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Minutes of the meeting <b>会议</b>, see attached.</p>',
  '--inner--',
  '--outer',
  'Content-Type: application/pdf; name="minutes.pdf"',
  'Content-Disposition: attachment; filename="minutes.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  ATTACHMENT.toString('base64'),
  '--outer--',
  '',
].join('\r\n');

async function imapClient(): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port: imapPort, secure: false, doSTARTTLS: false, auth: { user: alice.address, pass: TEST_PASSWORD }, logger: false });
  await client.connect();
  return client;
}

async function raw(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: any }> {
  const res = await fetch(`${api.url}/jmap/api`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
}

async function call(method: string, args: Record<string, unknown>): Promise<any> {
  const r = await raw({ using: [CORE, MAIL], methodCalls: [[method, { accountId, ...args }, 'c']] });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const [name, result] = r.body.methodResponses[0];
  expect(name, JSON.stringify(result)).toBe(method);
  return result;
}

async function folderId(role: string): Promise<string> {
  const [{ list }] = await jam.api.Mailbox.get({ accountId, ids: null });
  return list.find((m: { role: string | null }) => m.role === role)!.id;
}

beforeAll(async () => {
  blobDir = mkdtempSync(join(tmpdir(), 'dizi-jmap-'));
  api = await startTestApi({ BLOB_DIR: blobDir, JMAP_MAX_CALLS_IN_REQUEST: '6', JMAP_MAX_OBJECTS_IN_GET: '40', JMAP_MAX_SIZE_REQUEST: '20000' });
  const op = await api.operatorToken();
  const [domain] = (await createTenant(api, op, 'Jmap', ['jmap.test'])).domains;
  alice = await signedInMailbox(api, domain, 'alice', 'user');

  pool = new Pool({ connectionString: api.db.url, max: 4 });
  redis = new Redis(TEST_REDIS_URL, { keyPrefix: `dizi-test:${api.db.name}:` });
  notifier = new RedisNotifier(redis, { prefix: `dizi-test:${api.db.name}:mailbox:` });
  blobs = new FsBlobStore(blobDir);
  const store = new PostgresMessageStore({ pool, blobs, notifier });
  imap = createImapServer({
    store, notifier,
    authenticator: {
      async login({ username, password }) {
        if (username !== alice.address || password !== TEST_PASSWORD) return { ok: false, code: 'AUTHENTICATIONFAILED', text: 'no' };
        return { ok: true, mailboxId: alice.id, username };
      },
    },
    settings: { allowInsecureAuth: true },
  });
  imapPort = await imap.listen(0);

  const client = await imapClient();
  await client.append('INBOX', message('Hello one', 'First body line.\r\nSecond line.'), []);
  await client.append('INBOX', MULTIPART, ['\\Flagged']);
  await client.logout();

  jam = new JamClient({ sessionUrl: `${api.url}/jmap/session`, bearerToken: alice.token });
  accountId = await jam.getPrimaryAccount();
});

afterAll(async () => {
  await imap?.close();
  await notifier?.close();
  await blobs?.close();
  redis?.disconnect();
  await pool?.end();
  await api?.close();
  if (blobDir) rmSync(blobDir, { recursive: true, force: true });
});

describe('session resource', () => {
  it('is found from /.well-known/jmap and announces the limits from the settings', async () => {
    const wk = await fetch(`${api.url}/.well-known/jmap`, { redirect: 'manual' });
    expect(wk.status).toBe(307);
    expect(wk.headers.get('location')).toBe('/jmap/session');
    const session = await jam.session;
    expect(accountId).toBe(alice.id);
    expect(session.username).toBe(alice.address);
    expect(session.capabilities[CORE]).toMatchObject({ maxCallsInRequest: 6, maxObjectsInGet: 40, maxSizeRequest: 20000 });
    expect(session.primaryAccounts[MAIL]).toBe(alice.id);
    expect(session.apiUrl).toBe(`${api.url}/jmap/api`);
  });

  it('takes Basic auth with the mailbox password and refuses wrong or non-mailbox credentials', async () => {
    const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    const ok = await fetch(`${api.url}/jmap/session`, { headers: { authorization: basic(alice.address, TEST_PASSWORD) } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).username).toBe(alice.address);
    const wrong = await fetch(`${api.url}/jmap/session`, { headers: { authorization: basic(alice.address, 'not-the-password') } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/Basic/);
    const none = await fetch(`${api.url}/jmap/session`);
    expect(none.status).toBe(401);
    const operator = await fetch(`${api.url}/jmap/session`, { headers: { authorization: `Bearer ${await api.operatorToken('op2')}` } });
    expect(operator.status).toBe(403);
  });
});

describe('mail through jmap-jam', () => {
  it('lists the mailboxes with roles from SPECIAL-USE and counts', async () => {
    const [{ list }] = await jam.api.Mailbox.get({ accountId, ids: null });
    const inbox = list.find((m: any) => m.role === 'inbox')!;
    expect(inbox).toMatchObject({ name: 'INBOX', parentId: null, totalEmails: 2, unreadEmails: 2 });
    expect(list.map((m: any) => m.role).sort()).toEqual(['drafts', 'inbox', 'junk', 'sent', 'trash', null].sort());
  });

  it('queries the inbox newest first and gets the emails through a result reference', async () => {
    const inboxId = await folderId('inbox');
    const [result] = await jam.requestMany((b) => {
      const query = b.Email.query({ accountId, filter: { inMailbox: inboxId }, sort: [{ property: 'receivedAt', isAscending: false }], calculateTotal: true });
      const get = b.Email.get({
        accountId,
        ids: query.$ref('/ids'),
        properties: ['subject', 'from', 'preview', 'keywords', 'mailboxIds', 'textBody', 'htmlBody', 'attachments', 'bodyValues', 'hasAttachment', 'sentAt', 'messageId'],
        fetchTextBodyValues: true,
      });
      return { query, get };
    });
    expect(result.query.total).toBe(2);
    const emails = result.get.list as any[];
    expect(emails.map((e) => e.subject)).toEqual(['会议纪要', 'Hello one']);
    const [multi, plain] = emails;
    expect(multi.from).toEqual([{ name: 'Carol', email: 'carol@example.org' }]);
    expect(multi.keywords).toEqual({ $flagged: true });
    expect(multi.mailboxIds).toEqual({ [inboxId]: true });
    expect(multi.preview).toBe('Minutes of the meeting 会议, see attached.');
    expect(multi.sentAt).toBe('2026-12-08T01:00:00Z');
    expect(multi.messageId).toEqual(['multi.1@example.org']);
    expect(multi.textBody.map((p: any) => p.type)).toEqual(['text/plain']);
    expect(multi.htmlBody.map((p: any) => p.type)).toEqual(['text/html']);
    expect(multi.attachments).toMatchObject([{ type: 'application/pdf', name: 'minutes.pdf', disposition: 'attachment', size: ATTACHMENT.length }]);
    expect(multi.bodyValues[multi.textBody[0].partId].value).toBe('Minutes of the meeting 会议, see attached.');
    expect(multi.hasAttachment).toBe(true);
    expect(plain.from).toEqual([{ name: 'Bob 李', email: 'bob@example.org' }]);
    expect(plain.hasAttachment).toBe(false);
    expect(plain.bodyValues[plain.textBody[0].partId].value).toBe('First body line.\r\nSecond line.\r\n');

    // The attachment downloads decoded; the whole message as IMAP serves it.
    const download = (blobId: string) => fetch(`${api.url}/jmap/download/${accountId}/${blobId}/x?type=application/octet-stream`, { headers: { authorization: `Bearer ${alice.token}` } });
    const part = await download(multi.attachments[0].blobId);
    expect(part.status).toBe(200);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(ATTACHMENT);
    expect((await download('B999999')).status).toBe(404);
  });

  it('filters by keyword, sender and text and sorts by subject', async () => {
    const ids = async (filter: Record<string, unknown>, sort?: unknown) => {
      const [r] = await jam.api.Email.query({ accountId, filter, ...(sort ? { sort } : {}) } as never);
      return (r as any).ids as string[];
    };
    const [{ list }] = await jam.api.Email.get({ accountId, ids: null, properties: ['subject'] });
    const bySubject = new Map(list.map((e: any) => [e.subject, e.id]));
    expect(await ids({ hasKeyword: '$flagged' })).toEqual([bySubject.get('会议纪要')]);
    expect(await ids({ notKeyword: '$flagged' })).toEqual([bySubject.get('Hello one')]);
    expect(await ids({ from: 'carol' })).toEqual([bySubject.get('会议纪要')]);
    expect(await ids({ body: 'second' })).toEqual([bySubject.get('Hello one')]);
    expect(await ids({ hasAttachment: true })).toEqual([bySubject.get('会议纪要')]);
    // attachmentName (an extension): part of a file name, any case; a LIKE wildcard is only a character.
    expect(await ids({ attachmentName: 'MINUTES' })).toEqual([bySubject.get('会议纪要')]);
    expect(await ids({ attachmentName: '.pdf' })).toEqual([bySubject.get('会议纪要')]);
    expect(await ids({ attachmentName: 'm%s' })).toEqual([]);
    expect(await ids({ attachmentName: 'agenda' })).toEqual([]);
    expect(await ids({ operator: 'NOT', conditions: [{ attachmentName: 'minutes' }] })).toEqual([bySubject.get('Hello one')]);
    expect(await ids({ operator: 'NOT', conditions: [{ from: 'carol' }] })).toEqual([bySubject.get('Hello one')]);
    expect(await ids({}, [{ property: 'subject', isAscending: true }])).toEqual([bySubject.get('Hello one'), bySubject.get('会议纪要')]);
  });

  it('threads a reply with the message it answers, for Thread/get and collapseThreads', async () => {
    const [{ ids }] = (await jam.api.Email.query({ accountId, filter: { subject: 'Hello one' } } as never)) as any;
    const [{ list: [hello] }] = await jam.api.Email.get({ accountId, ids, properties: ['messageId', 'threadId'] });
    const client = await imapClient();
    try {
      await client.append('Sent', message('Answer', 'Thanks.', `In-Reply-To: <${(hello as any).messageId[0]}>`), ['\\Seen']);
    } finally {
      await client.logout();
    }
    const [{ ids: answerIds }] = (await jam.api.Email.query({ accountId, filter: { subject: 'Answer' } } as never)) as any;
    const [{ list: [answer] }] = await jam.api.Email.get({ accountId, ids: answerIds, properties: ['threadId', 'mailboxIds'] });
    expect((answer as any).threadId).toBe((hello as any).threadId);
    const [threads] = await jam.api.Thread.get({ accountId, ids: [(hello as any).threadId] });
    expect(threads.list).toEqual([{ id: (hello as any).threadId, emailIds: [ids[0], answerIds[0]] }]);
    const [all] = (await jam.api.Email.query({ accountId, calculateTotal: true } as never)) as any;
    const [collapsed] = (await jam.api.Email.query({ accountId, collapseThreads: true, calculateTotal: true } as never)) as any;
    expect(collapsed.total).toBe(all.total - 1);
    expect(collapsed.ids).toContain(answerIds[0]);
    expect(collapsed.ids).not.toContain(ids[0]);
    // Back to what the later specs expect: one email of this thread, in INBOX.
    await jam.api.Email.set({ accountId, destroy: answerIds } as never);
  });

  it('creates, renames, subscribes and destroys mailboxes, seen by IMAP', async () => {
    const [created] = await jam.api.Mailbox.set({ accountId, create: { p: { name: 'Projects', parentId: null, isSubscribed: false } } } as never);
    const id = (created as any).created.p.id as string;
    const client = await imapClient();
    try {
      let folders = await client.list();
      // imapflow marks subscribed folders (from LSUB) and leaves the flag out for the others.
      expect(folders.map((f) => f.path)).toContain('Projects');
      expect(folders.find((f) => f.path === 'Projects')!.subscribed ?? false).toBe(false);
      await jam.api.Mailbox.set({ accountId, update: { [id]: { name: 'Work', isSubscribed: true } } } as never);
      folders = await client.list();
      expect(folders.map((f) => f.path)).toContain('Work');
      expect(folders.find((f) => f.path === 'Work')!.subscribed).toBe(true);
      await client.mailboxUnsubscribe('Work');
      const [{ list }] = await jam.api.Mailbox.get({ accountId, ids: [id] });
      expect(list[0]).toMatchObject({ name: 'Work', isSubscribed: false });
      const [destroyed] = await jam.api.Mailbox.set({ accountId, destroy: [id] } as never);
      expect((destroyed as any).destroyed).toEqual([id]);
      expect((await client.list()).map((f) => f.path)).not.toContain('Work');
      const [roleClash] = await jam.api.Mailbox.set({ accountId, create: { t: { name: 'Bin', parentId: null, role: 'trash' } } } as never);
      expect((roleClash as any).notCreated.t).toMatchObject({ type: 'invalidProperties', properties: ['role'] });
      const [inboxDestroy] = await jam.api.Mailbox.set({ accountId, destroy: [await folderId('inbox')] } as never);
      expect((inboxDestroy as any).notDestroyed[await folderId('inbox')].type).toBe('forbidden');
    } finally {
      await client.logout();
    }
  });
});

describe('one store, two protocols', () => {
  it('shows IMAP APPEND, STORE and EXPUNGE in Email/changes', async () => {
    const [{ state }] = await jam.api.Email.get({ accountId, ids: [] });
    const client = await imapClient();
    try {
      await client.mailboxOpen('INBOX');
      const appended = await client.append('INBOX', message('Third', 'Third body.'), []);
      const [afterAppend] = await jam.api.Email.changes({ accountId, sinceState: state });
      expect(afterAppend.created).toHaveLength(1);
      expect(afterAppend.updated).toEqual([]);
      expect(afterAppend.destroyed).toEqual([]);
      const newId = afterAppend.created[0];

      await client.messageFlagsAdd(String((appended as { uid: number }).uid), ['\\Seen'], { uid: true });
      const [afterStore] = await jam.api.Email.changes({ accountId, sinceState: afterAppend.newState });
      expect(afterStore).toMatchObject({ created: [], updated: [newId], destroyed: [] });
      const [{ list }] = await jam.api.Email.get({ accountId, ids: [newId], properties: ['keywords'] });
      expect(list[0].keywords).toEqual({ $seen: true });

      await client.messageDelete(String((appended as { uid: number }).uid), { uid: true });
      const [afterExpunge] = await jam.api.Email.changes({ accountId, sinceState: afterStore.newState });
      expect(afterExpunge).toMatchObject({ created: [], updated: [], destroyed: [newId] });
      const [again] = await jam.api.Email.changes({ accountId, sinceState: afterExpunge.newState });
      expect(again).toMatchObject({ created: [], updated: [], destroyed: [], hasMoreChanges: false });
    } finally {
      await client.logout();
    }
  });

  it('splits changes by maxChanges without losing any', async () => {
    const [{ state }] = await jam.api.Email.get({ accountId, ids: [] });
    const client = await imapClient();
    try {
      for (const n of [1, 2, 3]) await client.append('INBOX', message(`Batch ${n}`, 'x'), []);
    } finally {
      await client.logout();
    }
    const seen: string[] = [];
    let since = state;
    for (let round = 0; round < 5; round++) {
      const [r] = await jam.api.Email.changes({ accountId, sinceState: since, maxChanges: 2 });
      expect(r.created.length + r.updated.length + r.destroyed.length).toBeLessThanOrEqual(2);
      seen.push(...r.created);
      since = r.newState;
      if (!r.hasMoreChanges) break;
    }
    expect(new Set(seen).size).toBe(3);
  });

  it('shows Email/set keywords, moves and destroys to IMAP, IDLE included', async () => {
    const [{ ids }] = await jam.api.Email.query({ accountId, filter: { text: 'Hello one' } } as never) as any;
    const [emailId] = ids as string[];
    const watcher = await imapClient();
    const reader = await imapClient();
    try {
      await watcher.mailboxOpen('INBOX');
      const flagEvents: Array<{ flags: Set<string> }> = [];
      watcher.on('flags', (e: { flags: Set<string> }) => flagEvents.push(e));
      const idling = watcher.idle();

      const [set] = await jam.api.Email.set({ accountId, update: { [emailId]: { 'keywords/$seen': true, 'keywords/$answered': true } } } as never);
      expect((set as any).updated).toEqual({ [emailId]: null });
      await until('IDLE to report the flags set over JMAP', async () => flagEvents.some((e) => e.flags.has('\\Seen') && e.flags.has('\\Answered')), { timeoutMs: 5000 });

      const trashId = await folderId('trash');
      await jam.api.Email.set({ accountId, update: { [emailId]: { mailboxIds: { [trashId]: true } } } } as never);
      await reader.mailboxOpen('Trash');
      const inTrash = await reader.fetchOne('*', { envelope: true, flags: true });
      expect(inTrash && inTrash.envelope?.subject).toBe('Hello one');
      expect(inTrash && [...inTrash.flags!].sort()).toEqual(['\\Answered', '\\Seen']);
      const [{ list }] = await jam.api.Email.get({ accountId, ids: [emailId], properties: ['mailboxIds'] });
      expect(list[0].mailboxIds).toEqual({ [trashId]: true });

      const [{ state }] = await jam.api.Email.get({ accountId, ids: [] });
      await jam.api.Email.set({ accountId, destroy: [emailId] } as never);
      const status = (await reader.status('Trash', { messages: true })) as { messages?: number };
      expect(status.messages).toBe(0);
      const [changes] = await jam.api.Email.changes({ accountId, sinceState: state });
      expect(changes.destroyed).toEqual([emailId]);
      void idling;
    } finally {
      await watcher.logout();
      await reader.logout();
    }
  });

  it('pushes a state change over EventSource when IMAP appends', async () => {
    const controller = new AbortController();
    const res = await fetch(`${api.url}/jmap/eventsource?types=Email&closeafter=state&ping=0`, {
      headers: { authorization: `Bearer ${alice.token}`, accept: 'text/event-stream' }, signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The stream is open (its first bytes arrived) before the change is made.
    while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value, { stream: true });
    const client = await imapClient();
    await client.append('INBOX', message('Pushed', 'push body'), []);
    await client.logout();
    const timer = setTimeout(() => controller.abort(), 5000);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    clearTimeout(timer);
    const event = /event: state\ndata: (.*)\n/.exec(text);
    expect(event, text).not.toBeNull();
    const data = JSON.parse(event![1]);
    expect(data['@type']).toBe('StateChange');
    const [{ state }] = await jam.api.Email.get({ accountId, ids: [] });
    expect(data.changed[accountId].Email).toBe(state);
  });
});

describe('SearchSnippet/get', () => {
  it('marks the words in the subject and a body excerpt, Chinese included, and escapes the rest', async () => {
    const client = await imapClient();
    try {
      await client.append('INBOX', message('Quarterly <draft> & 预算', `Intro line.\r\n${'filler words '.repeat(40)}the 预算报告 is due & <b>late</b>; budget meeting next.`), []);
    } finally {
      await client.logout();
    }
    const [{ ids: [found] }] = (await jam.api.Email.query({ accountId, filter: { text: '预算' } } as never)) as any;
    const [{ ids: [multi] }] = (await jam.api.Email.query({ accountId, filter: { hasAttachment: true } } as never)) as any;
    const snippet = (filter: unknown, emailIds: string[]) => call('SearchSnippet/get', { filter, emailIds });

    const zh = await snippet({ text: '预算' }, [found, multi, 'M999999']);
    expect(zh.notFound).toEqual(['M999999']);
    const [mine, other] = zh.list;
    expect(mine.subject).toBe('Quarterly &lt;draft&gt; &amp; <mark>预算</mark>');
    expect(mine.preview.startsWith('words filler words')).toBe(true);
    expect(mine.preview).toContain('the <mark>预算</mark>报告 is due &amp; &lt;b&gt;late&lt;/b&gt;; budget meeting next.');
    expect(Buffer.byteLength(mine.preview.replace(/<\/?mark>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'))).toBeLessThanOrEqual(255);
    expect(other).toEqual({ emailId: multi, subject: null, preview: null });

    // body conditions mark the body only; NOT's words are not marked; no words: nothing to mark.
    const body = await snippet({ operator: 'AND', conditions: [{ body: 'BUDGET' }, { operator: 'NOT', conditions: [{ text: 'intro' }] }] }, [found]);
    expect(body.list[0].subject).toBeNull();
    expect(body.list[0].preview).toContain('<mark>budget</mark> meeting');
    expect(body.list[0].preview).not.toContain('<mark>Intro');
    const meeting = await snippet({ text: '会议' }, [multi]);
    expect(meeting.list[0]).toEqual({ emailId: multi, subject: '<mark>会议</mark>纪要', preview: 'Minutes of the meeting <mark>会议</mark>, see attached.' });
    expect((await snippet(null, [found])).list[0]).toEqual({ emailId: found, subject: null, preview: null });
    await jam.api.Email.set({ accountId, destroy: [found] } as never);
  });
});

describe('Thread/changes, Email/parse, queryChanges', () => {
  it('reports threads created, updated and destroyed since a state, destroyed emails included', async () => {
    const [{ state }] = await jam.api.Email.get({ accountId, ids: [] });
    const [{ ids: [hello] }] = (await jam.api.Email.query({ accountId, filter: { subject: '会议纪要' } } as never)) as any;
    const [{ list: [root] }] = await jam.api.Email.get({ accountId, ids: [hello], properties: ['threadId', 'messageId'] });
    const client = await imapClient();
    try {
      await client.append('INBOX', message('Re: minutes', 'Agreed.', `In-Reply-To: <${(root as any).messageId[0]}>`), []);
      await client.append('INBOX', message('Standalone thread', 'alone'), []);
    } finally {
      await client.logout();
    }
    const [{ ids: [alone] }] = (await jam.api.Email.query({ accountId, filter: { subject: 'Standalone thread' } } as never)) as any;
    const [{ list: [aloneEmail] }] = await jam.api.Email.get({ accountId, ids: [alone], properties: ['threadId'] });
    const first = await call('Thread/changes', { sinceState: state });
    expect(first).toMatchObject({ oldState: state, hasMoreChanges: false, destroyed: [] });
    expect(first.updated).toEqual([(root as any).threadId]);
    expect(first.created).toEqual([(aloneEmail as any).threadId]);

    await jam.api.Email.set({ accountId, destroy: [alone] } as never);
    const second = await call('Thread/changes', { sinceState: first.newState });
    expect(second).toMatchObject({ created: [], updated: [], destroyed: [(aloneEmail as any).threadId] });
    const [{ ids: [reply] }] = (await jam.api.Email.query({ accountId, filter: { subject: 'Re: minutes' } } as never)) as any;
    await jam.api.Email.set({ accountId, destroy: [reply] } as never);
    const third = await call('Thread/changes', { sinceState: second.newState });
    expect(third).toMatchObject({ created: [], updated: [(root as any).threadId], destroyed: [] });
    expect((await call('Thread/changes', { sinceState: third.newState }))).toMatchObject({ created: [], updated: [], destroyed: [] });
    const bad = await raw({ using: [CORE, MAIL], methodCalls: [['Thread/changes', { accountId, sinceState: 'nonsense' }, 't']] });
    expect(bad.body.methodResponses[0]).toMatchObject(['error', { type: 'cannotCalculateChanges' }, 't']);
  });

  it('parses an uploaded message and a stored one without storing anything, refusing non-messages', async () => {
    const eml = message('Parsed only', 'Never stored.\r\nSecond line.', 'Cc: "王五" <wang@example.org>');
    const up = await fetch(`${api.url}/jmap/upload/${accountId}`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'message/rfc822' }, body: eml });
    expect(up.status).toBe(201);
    const { blobId } = (await up.json()) as { blobId: string };
    const [{ ids: [multi] }] = (await jam.api.Email.query({ accountId, filter: { hasAttachment: true } } as never)) as any;
    const [{ list: [stored] }] = await jam.api.Email.get({ accountId, ids: [multi], properties: ['blobId', 'attachments'] });
    const [{ state }] = await jam.api.Email.get({ accountId, ids: [] });

    const r = await call('Email/parse', { blobIds: [blobId, (stored as any).blobId, (stored as any).attachments[0].blobId, 'B999999'], fetchTextBodyValues: true });
    expect(r.notFound).toEqual(['B999999']);
    expect(r.notParsable).toEqual([(stored as any).attachments[0].blobId]);
    const parsed = r.parsed[blobId];
    expect(parsed).toMatchObject({ subject: 'Parsed only', cc: [{ name: '王五', email: 'wang@example.org' }], hasAttachment: false, preview: 'Never stored. Second line.' });
    expect(parsed.bodyValues[parsed.textBody[0].partId].value).toBe('Never stored.\r\nSecond line.\r\n');
    expect(parsed.textBody[0].blobId).toBeNull();
    expect(r.parsed[(stored as any).blobId]).toMatchObject({ subject: '会议纪要', hasAttachment: true });
    expect(r.parsed[(stored as any).blobId].attachments.map((a: any) => a.name)).toEqual(['minutes.pdf']);
    const withIds = await call('Email/parse', { blobIds: [blobId], properties: ['id', 'blobId', 'threadId', 'size', 'subject'] });
    expect(withIds.parsed[blobId]).toEqual({ id: null, blobId, threadId: null, size: Buffer.byteLength(eml), subject: 'Parsed only' });
    // Nothing was stored.
    const [{ state: after }] = await jam.api.Email.get({ accountId, ids: [] });
    expect(after).toBe(state);
  });

  it('answers Email/queryChanges and Mailbox/queryChanges with cannotCalculateChanges, as canCalculateChanges says, and Email/copy from another account with fromAccountNotFound', async () => {
    const q = await call('Email/query', {});
    expect(q.canCalculateChanges).toBe(false);
    const r = await raw({ using: [CORE, MAIL], methodCalls: [
      ['Email/queryChanges', { accountId, sinceQueryState: q.queryState }, 'e'],
      ['Mailbox/queryChanges', { accountId, sinceQueryState: 'x' }, 'm'],
      ['Email/queryChanges', { accountId }, 'n'],
      ['Email/copy', { accountId, fromAccountId: 'someone-else', create: {} }, 'c'],
      ['Email/copy', { accountId, fromAccountId: accountId, create: {} }, 's'],
    ] });
    expect(r.body.methodResponses.map((x: any[]) => [x[0], x[1].type])).toEqual([
      ['error', 'cannotCalculateChanges'], ['error', 'cannotCalculateChanges'], ['error', 'invalidArguments'],
      ['error', 'fromAccountNotFound'], ['error', 'invalidArguments'],
    ]);
  });
});

describe('VacationResponse and Quota', () => {
  const VACATION = 'urn:ietf:params:jmap:vacationresponse';
  const QUOTA = 'urn:ietf:params:jmap:quota';
  const with_ = async (capability: string, method: string, args: Record<string, unknown>) => {
    const r = await raw({ using: [CORE, MAIL, capability], methodCalls: [[method, { accountId, ...args }, 'c']] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.methodResponses[0] as [string, any, string];
  };

  it('is the mailbox auto-reply the API and the delivery workers use, changed only by valid updates', async () => {
    const session = await jam.session;
    expect(session.capabilities).toHaveProperty(VACATION);
    expect((session.accounts as any)[accountId].accountCapabilities).toHaveProperty(VACATION);
    const [, first] = await with_(VACATION, 'VacationResponse/get', { ids: null });
    expect(first.list).toEqual([{ id: 'singleton', isEnabled: false, fromDate: null, toDate: null, subject: null, textBody: null, htmlBody: null }]);

    const [, set] = await with_(VACATION, 'VacationResponse/set', {
      ifInState: first.state,
      update: { singleton: { isEnabled: true, subject: '休假中 Out of office', textBody: '我在休假，1 月 5 日回来。\nBack on 5 January.', fromDate: '2026-12-20T00:00:00Z', toDate: '2027-01-05T00:00:00Z' } },
      create: { again: { isEnabled: true } },
      destroy: ['singleton'],
    });
    expect(set.updated).toEqual({ singleton: null });
    expect(set.notCreated.again.type).toBe('singleton');
    expect(set.notDestroyed.singleton.type).toBe('singleton');
    expect(set.newState).not.toBe(first.state);
    // The same settings through the API the portal uses, forwarding untouched.
    const delivery = await api.request('GET', `/api/mailboxes/${alice.id}/delivery`, { token: alice.token });
    expect(delivery.status).toBe(200);
    expect(delivery.body).toMatchObject({ keepCopy: true, forwardTo: [], autoReply: {
      enabled: true, subject: '休假中 Out of office', body: '我在休假，1 月 5 日回来。\nBack on 5 January.', startsAt: '2026-12-20T00:00:00.000Z', endsAt: '2027-01-05T00:00:00.000Z',
    } });

    const refused = async (patch: Record<string, unknown>) => (await with_(VACATION, 'VacationResponse/set', { update: { singleton: patch } }))[1].notUpdated.singleton;
    expect(await refused({ textBody: '' })).toMatchObject({ type: 'invalidProperties', properties: ['textBody'] });
    expect(await refused({ htmlBody: '<p>away</p>' })).toMatchObject({ type: 'invalidProperties', properties: ['htmlBody'] });
    expect(await refused({ toDate: '2026-12-01T00:00:00Z' })).toMatchObject({ type: 'invalidProperties', properties: ['toDate'] });
    expect(await refused({ fromDate: 'tomorrow' })).toMatchObject({ type: 'invalidProperties', properties: ['fromDate'] });
    expect(await refused({ subject: 'x'.repeat(201) })).toMatchObject({ type: 'invalidProperties', properties: ['subject'] });
    const [, after] = await with_(VACATION, 'VacationResponse/get', { ids: ['singleton', 'other'], properties: ['isEnabled', 'subject'] });
    expect(after).toMatchObject({ state: set.newState, list: [{ id: 'singleton', isEnabled: true, subject: '休假中 Out of office' }], notFound: ['other'] });
    const [name, stale] = await with_(VACATION, 'VacationResponse/set', { ifInState: first.state, update: { singleton: { isEnabled: false } } });
    expect([name, stale.type]).toEqual(['error', 'stateMismatch']);
    const [, off] = await with_(VACATION, 'VacationResponse/set', { update: { singleton: { isEnabled: false } } });
    expect(off.updated).toEqual({ singleton: null });
    const unknown = await raw({ using: [CORE, MAIL], methodCalls: [['VacationResponse/get', { accountId }, 'v']] });
    expect(unknown.body.methodResponses[0][1].type).toBe('unknownMethod');
  });

  it('shows the mailbox quota and its usage, and reports a change after new mail', async () => {
    const [, got] = await with_(QUOTA, 'Quota/get', { ids: null });
    const [{ used_bytes: used, quota_bytes: limit }] = await api.db.dataSource.query(`SELECT used_bytes, quota_bytes FROM mailbox WHERE id = $1`, [alice.id]);
    expect(got.list).toEqual([{
      id: 'octets', resourceType: 'octets', used: Number(used), hardLimit: Number(limit), scope: 'account', name: `${alice.address} storage`,
      types: ['Email'], warnLimit: null, softLimit: null, description: null,
    }]);
    const [, query] = await with_(QUOTA, 'Quota/query', { filter: { resourceType: 'octets', type: 'Email' }, calculateTotal: true });
    expect(query).toMatchObject({ ids: ['octets'], total: 1 });
    expect((await with_(QUOTA, 'Quota/query', { filter: { resourceType: 'count' } }))[1].ids).toEqual([]);
    expect((await with_(QUOTA, 'Quota/changes', { sinceState: got.state }))[1]).toMatchObject({ updated: [], newState: got.state });
    const client = await imapClient();
    await client.append('Drafts', message('Quota', 'counts'), []);
    await client.logout();
    const [, changes] = await with_(QUOTA, 'Quota/changes', { sinceState: got.state });
    expect(changes).toMatchObject({ created: [], updated: ['octets'], destroyed: [] });
    const [, now] = await with_(QUOTA, 'Quota/get', { ids: ['octets'], properties: ['used'] });
    expect(now.list[0].used).toBeGreaterThan(got.list[0].used);
    expect(now.state).toBe(changes.newState);
  });
});

describe('request errors (raw HTTP)', () => {
  it('answers bad requests with the RFC problem types, never 500', async () => {
    const notJson = await raw('{"using": [');
    expect(notJson).toMatchObject({ status: 400, body: { type: 'urn:ietf:params:jmap:error:notJSON', status: 400 } });
    expect(notJson.type).toMatch(/application\/problem\+json/);
    expect((await raw({ using: [CORE] })).body.type).toBe('urn:ietf:params:jmap:error:notRequest');
    expect((await raw({ using: [CORE], methodCalls: [['Core/echo', [], 'c']] })).body.type).toBe('urn:ietf:params:jmap:error:notRequest');
    const unknownCapability = await raw({ using: [CORE, 'urn:example:nope'], methodCalls: [] });
    expect(unknownCapability).toMatchObject({ status: 400, body: { type: 'urn:ietf:params:jmap:error:unknownCapability' } });
    const tooMany = await raw({ using: [CORE], methodCalls: Array.from({ length: 7 }, (_, i) => ['Core/echo', {}, `c${i}`]) });
    expect(tooMany).toMatchObject({ status: 400, body: { type: 'urn:ietf:params:jmap:error:limit', limit: 'maxCallsInRequest' } });
    const tooLarge = await raw({ using: [CORE], methodCalls: [['Core/echo', { pad: 'x'.repeat(25000) }, 'c']] });
    expect(tooLarge).toMatchObject({ status: 400, body: { type: 'urn:ietf:params:jmap:error:limit', limit: 'maxSizeRequest' } });
    const wrongType = await raw('{}', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(400);
  });

  it('answers method-level errors in methodResponses and runs the other calls', async () => {
    const r = await raw({
      using: [CORE, MAIL],
      methodCalls: [
        ['Core/echo', { hello: [{ a: 1 }, { a: 2 }] }, 'e'],
        ['Core/echo', { '#got': { resultOf: 'e', name: 'Core/echo', path: '/hello/*/a' } }, 'star'],
        ['Nope/get', {}, 'u'],
        ['Core/echo', { '#x': { resultOf: 'missing', name: 'Core/echo', path: '/a' } }, 'badref'],
        ['Core/echo', { '#x': { resultOf: 'e', name: 'Core/echo', path: '/nothing/here' } }, 'badpath'],
        ['Mailbox/get', { accountId: 'someone-else' }, 'acct'],
      ],
    });
    expect(r.status).toBe(200);
    const [echo, star, unknown, badRef, badPath, account] = r.body.methodResponses;
    expect(echo).toEqual(['Core/echo', { hello: [{ a: 1 }, { a: 2 }] }, 'e']);
    expect(star).toEqual(['Core/echo', { got: [1, 2] }, 'star']);
    expect(unknown).toMatchObject(['error', { type: 'unknownMethod' }, 'u']);
    expect(badRef).toMatchObject(['error', { type: 'invalidResultReference' }, 'badref']);
    expect(badPath).toMatchObject(['error', { type: 'invalidResultReference' }, 'badpath']);
    expect(account).toMatchObject(['error', { type: 'accountNotFound' }, 'acct']);
    expect(typeof r.body.sessionState).toBe('string');

    // A mail method without the mail capability in "using" is unknown.
    const noMail = await raw({ using: [CORE], methodCalls: [['Mailbox/get', { accountId }, 'm']] });
    expect(noMail.body.methodResponses[0]).toMatchObject(['error', { type: 'unknownMethod' }, 'm']);
  });

  it('refuses more objects than maxObjectsInGet and bad state strings', async () => {
    const ids = Array.from({ length: 41 }, (_, i) => `M${i + 1}`);
    const r = await raw({ using: [CORE, MAIL], methodCalls: [['Email/get', { accountId, ids }, 'g'], ['Email/changes', { accountId, sinceState: 'garbage' }, 'c']] });
    expect(r.body.methodResponses[0]).toMatchObject(['error', { type: 'requestTooLarge' }, 'g']);
    expect(r.body.methodResponses[1]).toMatchObject(['error', { type: 'cannotCalculateChanges' }, 'c']);
    const badFilter = await raw({ using: [CORE, MAIL], methodCalls: [['Email/query', { accountId, filter: { nonsense: 1 } }, 'q'], ['Email/query', { accountId, sort: [{ property: 'nope' }] }, 's']] });
    expect(badFilter.body.methodResponses[0]).toMatchObject(['error', { type: 'unsupportedFilter' }, 'q']);
    expect(badFilter.body.methodResponses[1]).toMatchObject(['error', { type: 'unsupportedSort' }, 's']);
  });

  it('answers ifInState mismatches with stateMismatch and changes nothing', async () => {
    const r = await call('Mailbox/get', { ids: [] });
    const stale = await raw({ using: [CORE, MAIL], methodCalls: [['Mailbox/set', { accountId, ifInState: `${r.state}x`, create: { a: { name: 'Never' } } }, 's']] });
    expect(stale.body.methodResponses[0]).toMatchObject(['error', { type: 'stateMismatch' }, 's']);
    const after = await call('Mailbox/get', { ids: null, properties: ['name'] });
    expect(after.list.map((m: { name: string }) => m.name)).not.toContain('Never');
  });
});

describe('Email/query as the webmail pages a folder', () => {
  it('filters, sorts, collapses threads and pages by position and anchor with totals', async () => {
    const client = await imapClient();
    const subjects = ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo', 'Foxtrot'];
    try {
      await client.mailboxCreate('Paging');
      for (const [i, s] of subjects.entries()) {
        const extra = s === 'Delta' ? 'In-Reply-To: <Bravo.thread@example.org>' : '';
        const fruit = ['apple', 'banana', 'cherry', 'damson', 'elderberry', 'fig'][i];
        const raw = message(s, `${fruit} body ${'x'.repeat(i * 200)}`, extra)
          .replace(/Message-ID: <[^>]+>/, `Message-ID: <${s}.thread@example.org>`);
        await client.append('Paging', raw, i % 2 === 0 ? ['\\Seen'] : [], new Date(Date.UTC(2026, 10, 1 + i, 8)));
      }
    } finally {
      await client.logout();
    }
    const pagingId = (await jam.api.Mailbox.get({ accountId, ids: null }))[0].list.find((m: any) => m.name === 'Paging')!.id;
    const [{ list }] = await jam.api.Email.get({ accountId, ids: (await call('Email/query', { filter: { inMailbox: pagingId } })).ids, properties: ['subject'] });
    const id = new Map(list.map((e: any) => [e.subject as string, e.id as string]));
    const ids = (...names: string[]) => names.map((n) => id.get(n));
    const query = (args: Record<string, unknown>) => call('Email/query', { filter: { inMailbox: pagingId }, ...args });

    // Newest first by default, a window at a time, the total beside it.
    expect(await query({ limit: 2, calculateTotal: true })).toMatchObject({ position: 0, ids: ids('Foxtrot', 'Echo'), total: 6 });
    expect(await query({ position: 2, limit: 2 })).toMatchObject({ position: 2, ids: ids('Delta', 'Charlie') });
    expect(await query({ position: -2 })).toMatchObject({ position: 4, ids: ids('Bravo', 'Alpha') });
    expect(await query({ position: 10, calculateTotal: true })).toMatchObject({ position: 6, ids: [], total: 6 });
    expect(await query({ anchor: id.get('Delta'), anchorOffset: -1, limit: 3 })).toMatchObject({ position: 1, ids: ids('Echo', 'Delta', 'Charlie') });
    expect(await query({ limit: 100 })).toMatchObject({ limit: 40 });

    // Delta answers Bravo: collapsed, Delta (newer) stands for the thread and Bravo is left out.
    const collapsed = await query({ collapseThreads: true, calculateTotal: true });
    expect(collapsed).toMatchObject({ ids: ids('Foxtrot', 'Echo', 'Delta', 'Charlie', 'Alpha'), total: 5 });
    expect(await query({ collapseThreads: true, position: 3, limit: 5 })).toMatchObject({ ids: ids('Charlie', 'Alpha') });

    const filtered = async (filter: Record<string, unknown>, sort?: unknown[]) =>
      (await call('Email/query', { filter: { operator: 'AND', conditions: [{ inMailbox: pagingId }, filter] }, ...(sort ? { sort } : {}) })).ids;
    expect(await filtered({ notKeyword: '$seen' })).toEqual(ids('Foxtrot', 'Delta', 'Bravo'));
    expect(await filtered({ hasKeyword: '$seen' })).toEqual(ids('Echo', 'Charlie', 'Alpha'));
    expect(await filtered({ after: '2026-11-03T00:00:00Z', before: '2026-11-05T00:00:00Z' })).toEqual(ids('Delta', 'Charlie'));
    expect(await filtered({ subject: 'echo' })).toEqual(ids('Echo'));
    expect(await filtered({ to: 'alice@jmap.test', body: 'banana' })).toEqual(ids('Bravo'));
    expect(await filtered({ text: 'charlie' })).toEqual(ids('Charlie'));
    expect(await filtered({ text: 'cherry' })).toEqual(ids('Charlie'));
    expect(await filtered({ from: 'bob@example.org', hasAttachment: false, minSize: 1 })).toHaveLength(6);
    expect(await filtered({ header: ['In-Reply-To', 'bravo.thread'] })).toEqual(ids('Delta'));
    expect(await filtered({}, [{ property: 'subject', isAscending: false }])).toEqual(ids('Foxtrot', 'Echo', 'Delta', 'Charlie', 'Bravo', 'Alpha'));
    expect(await filtered({}, [{ property: 'size', isAscending: true }])).toEqual(ids('Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo', 'Foxtrot'));
    expect(await filtered({}, [{ property: 'receivedAt', isAscending: true }])).toEqual(ids('Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo', 'Foxtrot'));
    expect(await filtered({}, [{ property: 'hasKeyword', keyword: '$seen', isAscending: false }, { property: 'receivedAt', isAscending: false }]))
      .toEqual(ids('Echo', 'Charlie', 'Alpha', 'Foxtrot', 'Delta', 'Bravo'));

    // Search results with their snippets, as the webmail shows them: the words marked, the rest escaped.
    const snippets = await raw({ using: [CORE, MAIL], methodCalls: [
      ['Email/query', { accountId, filter: { operator: 'AND', conditions: [{ inMailbox: pagingId }, { text: 'cherry charlie' }] } }, 'q'],
      ['SearchSnippet/get', { accountId, filter: { text: 'cherry charlie' }, '#emailIds': { resultOf: 'q', name: 'Email/query', path: '/ids' } }, 's'],
    ] });
    expect(snippets.body.methodResponses[1][1]).toMatchObject({
      list: [{ emailId: id.get('Charlie'), subject: '<mark>Charlie</mark>', preview: expect.stringMatching(/^<mark>cherry<\/mark> body x+$/) }], notFound: [],
    });
    // Totals are kept per state: new mail changes the state, and the next total counts it.
    const unseen = { filter: { operator: 'AND', conditions: [{ inMailbox: pagingId }, { notKeyword: '$seen' }] }, collapseThreads: true, calculateTotal: true };
    const before = await call('Email/query', unseen);
    // Foxtrot, Delta and Bravo are unread; Delta and Bravo are one thread.
    expect(before.total).toBe(2);
    const adder = await imapClient();
    try {
      await adder.append('Paging', message('Golf', 'grape body'), []);
    } finally {
      await adder.logout();
    }
    const after = await call('Email/query', unseen);
    expect(after.queryState).not.toBe(before.queryState);
    expect(after.total).toBe(3);
    expect((await query({ calculateTotal: true })).total).toBe(7);
    await jam.api.Email.set({ accountId, destroy: [after.ids[0]] } as never);
    expect((await call('Email/query', unseen)).total).toBe(2);
    const missing = await raw({ using: [CORE, MAIL], methodCalls: [['Email/query', { accountId, filter: { inMailbox: pagingId }, anchor: 'M999999' }, 'a']] });
    expect(missing.body.methodResponses[0]).toMatchObject(['error', { type: 'anchorNotFound' }, 'a']);
  });
});

describe('JMAP limits as operator settings', () => {
  it('are the JMAP_MAX_* variables until an operator changes one, then announced and enforced by the API', async () => {
    const op = await api.operatorToken('jmap-op');
    const first = await api.request('GET', '/api/settings/jmap', { token: op });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ values: { maxCallsInRequest: 6, maxObjectsInGet: 40, maxSizeRequest: 20000 }, defaults: { maxCallsInRequest: 6 }, overridden: [] });
    expect((await api.request('GET', '/api/settings/jmap', { token: alice.token })).status).toBe(403);
    for (const body of [{ maxCallsInRequest: 0 }, { maxCallsInRequest: 2.5 }, { maxCalls: 3 }, { maxSizeRequest: 10 }]) {
      const bad = await api.request('PATCH', '/api/settings/jmap', { token: op, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }

    const changed = await api.request('PATCH', '/api/settings/jmap', { token: op, body: { maxCallsInRequest: 2 } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ values: { maxCallsInRequest: 2, maxObjectsInGet: 40 }, defaults: { maxCallsInRequest: 6 }, overridden: ['maxCallsInRequest'] });
    const session = async () => (await (await fetch(`${api.url}/jmap/session`, { headers: { authorization: `Bearer ${alice.token}` } })).json()) as any;
    await until('the session to announce the new limit', async () => (await session()).capabilities[CORE].maxCallsInRequest === 2, { timeoutMs: 10_000 });
    const echo = (n: number) => raw({ using: [CORE], methodCalls: Array.from({ length: n }, (_, i) => ['Core/echo', { i }, `e${i}`]) });
    const tooMany = await echo(3);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ type: 'urn:ietf:params:jmap:error:limit', limit: 'maxCallsInRequest' });
    expect((await echo(2)).status).toBe(200);

    const reset = await api.request('PATCH', '/api/settings/jmap', { token: op, body: { maxCallsInRequest: null } });
    expect(reset.body).toMatchObject({ values: { maxCallsInRequest: 6 }, overridden: [] });
    await until('the session to announce the default again', async () => (await session()).capabilities[CORE].maxCallsInRequest === 6, { timeoutMs: 10_000 });
    const [audit] = await api.db.dataSource.query(`SELECT before, after FROM audit_event WHERE action = 'settings.jmap.update' ORDER BY id LIMIT 1`);
    expect(audit).toEqual({ before: {}, after: { maxCallsInRequest: 2 } });
  });
});
