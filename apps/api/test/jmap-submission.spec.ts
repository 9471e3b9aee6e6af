/**
 * JMAP's sending side end to end, against the real API on PostgreSQL and Redis with the jmap-jam client: blob upload
 * and Email/import (RFC 8620 §6.1, RFC 8621 §4.8), Identity (RFC 8621 §6), drafts by Email/set create (§4.6), EmailSubmission/set (§7.5) through the submission service into the spool.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JamClient } from 'jmap-jam';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './harness';
import { createTenant, signedInMailbox, type SignedInMailbox } from './mail-admin-fixture';

const MAIL = 'urn:ietf:params:jmap:mail';
const CORE = 'urn:ietf:params:jmap:core';
const SUBMISSION = 'urn:ietf:params:jmap:submission';
const MAX_UPLOAD = 300_000;

let api: TestApi;
let alice: SignedInMailbox;
let bob: SignedInMailbox;
let blobDir: string;
let jam: JamClient;
let accountId: string;
let op: string;

async function call(who: SignedInMailbox, method: string, args: Record<string, unknown>, using = [CORE, MAIL]): Promise<any> {
  const res = await fetch(`${api.url}/jmap/api`, {
    method: 'POST',
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ using, methodCalls: [[method, { accountId: who.id, ...args }, 'c']] }),
  });
  const body: any = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  const [name, result] = body.methodResponses[0];
  expect(name, JSON.stringify(result)).toBe(method);
  return result;
}

async function upload(who: SignedInMailbox, body: Buffer | string, type = 'message/rfc822'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api.url}/jmap/upload/${who.id}`, { method: 'POST', headers: { authorization: `Bearer ${who.token}`, 'content-type': type }, body });
  return { status: res.status, body: await res.json() };
}

async function folderId(who: SignedInMailbox, role: string): Promise<string> {
  const r = await call(who, 'Mailbox/get', { ids: null });
  return r.list.find((m: { role: string | null }) => m.role === role).id;
}

const IMPORTED = [
  'From: Dora <dora@example.org>',
  'To: alice@jmapsend.test',
  'Subject: Imported 导入的信',
  'Date: Mon, 07 Dec 2026 08:00:00 +0000',
  'Message-ID: <imported.1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Uploaded, then imported.',
  '',
].join('\r\n');

beforeAll(async () => {
  blobDir = mkdtempSync(join(tmpdir(), 'dizi-jmap-send-'));
  api = await startTestApi({ BLOB_DIR: blobDir, JMAP_MAX_SIZE_UPLOAD: String(MAX_UPLOAD) });
  op = await api.operatorToken();
  const [domain] = (await createTenant(api, op, 'JmapSend', ['jmapsend.test'])).domains;
  alice = await signedInMailbox(api, domain, 'alice', 'user');
  bob = await signedInMailbox(api, domain, 'bob', 'user');
  jam = new JamClient({ sessionUrl: `${api.url}/jmap/session`, bearerToken: alice.token });
  accountId = await jam.getPrimaryAccount();
});

afterAll(async () => {
  await api?.close();
  if (blobDir) rmSync(blobDir, { recursive: true, force: true });
});

describe('blob upload and Email/import', () => {
  it('uploads a blob (jmap-jam), downloads it back, and imports it into a mailbox with keywords', async () => {
    const up = await jam.uploadBlob(accountId, new Blob([IMPORTED], { type: 'message/rfc822' }));
    expect(up).toMatchObject({ accountId, type: 'message/rfc822', size: Buffer.byteLength(IMPORTED) });
    expect(up.blobId).toMatch(/^U[0-9a-f]{64}$/);

    const down = await jam.downloadBlob({ accountId, blobId: up.blobId, mimeType: 'message/rfc822', fileName: 'x.eml' });
    expect(Buffer.from(await down.arrayBuffer()).toString('utf8')).toBe(IMPORTED);

    const archive = await folderId(alice, 'inbox');
    const [imported] = await jam.api.Email.import({
      accountId,
      emails: { one: { blobId: up.blobId, mailboxIds: { [archive]: true }, keywords: { $seen: true, $flagged: true }, receivedAt: '2026-12-07T09:30:00Z' } },
    });
    const created = imported.created!.one;
    expect(created.id).toMatch(/^M\d+$/);
    expect(created.size).toBe(Buffer.byteLength(IMPORTED));
    expect(imported.newState).not.toBe(imported.oldState);

    const [got] = await jam.api.Email.get({ accountId, ids: [created.id], properties: ['subject', 'mailboxIds', 'keywords', 'receivedAt', 'from', 'blobId', 'threadId'] });
    expect(got.list[0]).toMatchObject({
      subject: 'Imported 导入的信', mailboxIds: { [archive]: true }, keywords: { $seen: true, $flagged: true },
      receivedAt: '2026-12-07T09:30:00Z', from: [{ name: 'Dora', email: 'dora@example.org' }], blobId: created.blobId, threadId: created.threadId,
    });
    // Found by search: the import indexed it like a delivery.
    const [query] = await jam.api.Email.query({ accountId, filter: { text: '导入' } });
    expect(query.ids).toContain(created.id);
  });

  it('keeps uploads to their account, refuses bad imports per record, and enforces maxSizeUpload', async () => {
    const up = await upload(alice, IMPORTED);
    expect(up.status).toBe(201);
    // Bob cannot import (or download) Alice's upload, even knowing its id.
    const bobInbox = await folderId(bob, 'inbox');
    const stolen = await call(bob, 'Email/import', { emails: { x: { blobId: up.body.blobId, mailboxIds: { [bobInbox]: true } } } });
    expect(stolen.notCreated.x).toMatchObject({ type: 'blobNotFound' });
    const down = await fetch(`${api.url}/jmap/download/${bob.id}/${up.body.blobId}/x.eml`, { headers: { authorization: `Bearer ${bob.token}` } });
    expect(down.status).toBe(404);
    // Nor upload into Alice's account.
    const wrongAccount = await fetch(`${api.url}/jmap/upload/${alice.id}`, { method: 'POST', headers: { authorization: `Bearer ${bob.token}` }, body: 'x' });
    expect(wrongAccount.status).toBe(404);

    const inbox = await folderId(alice, 'inbox');
    const bad = await call(alice, 'Email/import', {
      emails: {
        noMailbox: { blobId: up.body.blobId, mailboxIds: {} },
        twoMailboxes: { blobId: up.body.blobId, mailboxIds: { [inbox]: true, [await folderId(alice, 'trash')]: true } },
        badKeyword: { blobId: up.body.blobId, mailboxIds: { [inbox]: true }, keywords: { 'bad keyword': true } },
        unknownBlob: { blobId: `U${'0'.repeat(64)}`, mailboxIds: { [inbox]: true } },
      },
    });
    expect(bad.created).toEqual({});
    expect(bad.notCreated.noMailbox).toMatchObject({ type: 'invalidProperties', properties: ['mailboxIds'] });
    expect(bad.notCreated.twoMailboxes).toMatchObject({ type: 'invalidProperties' });
    expect(bad.notCreated.badKeyword).toMatchObject({ type: 'invalidProperties', properties: ['keywords'] });
    expect(bad.notCreated.unknownBlob).toMatchObject({ type: 'blobNotFound' });
    expect(bad.newState).toBe(bad.oldState);

    const big = await upload(alice, Buffer.alloc(MAX_UPLOAD + 1, 0x61), 'application/octet-stream');
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ type: 'urn:ietf:params:jmap:error:limit', limit: 'maxSizeUpload' });
  });

  it('counts an imported message against the quota (overQuota past it)', async () => {
    // The test mailboxes have 1 MiB of quota: four 280 kB messages do not fit.
    const filler = `${IMPORTED.replace('Imported', 'Heavy')}${`${'y'.repeat(998)}\r\n`.repeat(280)}`;
    const up = await upload(alice, filler);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    const inbox = await folderId(alice, 'inbox');
    const r = await call(alice, 'Email/import', {
      emails: Object.fromEntries([1, 2, 3, 4].map((i) => [`h${i}`, { blobId: up.body.blobId, mailboxIds: { [inbox]: true } }])),
    });
    expect(Object.keys(r.created).length).toBe(3);
    expect(r.notCreated.h4).toMatchObject({ type: 'overQuota' });
  });
});

describe('identities', () => {
  it('lists the own address, aliases delivering to the mailbox and send-as grants, and follows them in Identity/changes', async () => {
    const session = await jam.session;
    expect(session.capabilities[SUBMISSION]).toEqual({});
    expect(session.accounts[accountId].accountCapabilities[SUBMISSION]).toMatchObject({ maxDelayedSend: 30 * 86_400 });

    const [first] = await jam.api.Identity.get({ accountId, ids: null });
    expect(first.list.map((i: { email: string }) => i.email)).toEqual([alice.address]);
    expect(first.list[0]).toMatchObject({ mayDelete: false, replyTo: null, bcc: null });

    const alias = await api.request('POST', '/api/aliases', { token: op, body: { address: 'sales@jmapsend.test', destinations: [alice.address] } });
    expect(alias.status, JSON.stringify(alias.body)).toBe(201);
    // An alias to someone else is not Alice's to send as.
    expect((await api.request('POST', '/api/aliases', { token: op, body: { address: 'bobs@jmapsend.test', destinations: [bob.address] } })).status).toBe(201);
    const grant = await api.request('POST', `/api/mailboxes/${encodeURIComponent(alice.address)}/send-as`, { token: op, body: { address: bob.address } });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);

    const [changes] = await jam.api.Identity.changes({ accountId, sinceState: first.state });
    expect(changes.created.length).toBe(2);
    expect(changes.destroyed).toEqual([]);
    const [now] = await jam.api.Identity.get({ accountId, ids: null });
    expect(now.state).toBe(changes.newState);
    expect(now.list.map((i: { email: string }) => i.email)).toEqual([alice.address, 'sales@jmapsend.test', bob.address]);
    expect(now.list.map((i: { id: string }) => i.id).sort()).toEqual([now.list[0].id, ...changes.created].sort());

    const [one] = await jam.api.Identity.get({ accountId, ids: [changes.created[0], 'Inobody'], properties: ['email'] });
    expect(one.list).toHaveLength(1);
    expect(Object.keys(one.list[0]).sort()).toEqual(['email', 'id']);
    expect(one.notFound).toEqual(['Inobody']);

    // Revoked: gone from the list, destroyed in the changes.
    expect((await api.request('DELETE', `/api/mailboxes/${encodeURIComponent(alice.address)}/send-as/${encodeURIComponent(bob.address)}`, { token: op })).status).toBe(204);
    const [after] = await jam.api.Identity.changes({ accountId, sinceState: now.state });
    expect(after).toMatchObject({ created: [], updated: [], destroyed: [now.list[2].id] });

    // Bob sees only his own address and the alias delivering to him.
    const bobs = await call(bob, 'Identity/get', { ids: null }, [CORE, SUBMISSION]);
    expect(bobs.list.map((i: { email: string }) => i.email)).toEqual([bob.address, 'bobs@jmapsend.test']);
  });
});

describe('drafts (Email/set create)', () => {
  it('composes a MIME message from the Email object, with an uploaded attachment, stored in Drafts with its keywords', async () => {
    const drafts = await folderId(alice, 'drafts');
    const pdf = Buffer.from('%PDF-1.4 draft attachment 附件\n');
    const up = await jam.uploadBlob(accountId, new Blob([pdf], { type: 'application/pdf' }));
    const [set] = await jam.api.Email.set({
      accountId,
      create: {
        d1: {
          mailboxIds: { [drafts]: true },
          keywords: { $draft: true, $seen: true },
          from: [{ name: 'Alice 爱丽丝', email: alice.address }],
          to: [{ name: 'Bob', email: bob.address }],
          bcc: [{ name: null, email: 'hidden@example.org' }],
          subject: '草稿 draft one',
          inReplyTo: ['orig.1@example.org'],
          'header:X-Draft-Note:asText': 'written over JMAP',
          textBody: [{ partId: 't', type: 'text/plain' }],
          htmlBody: [{ partId: 'h', type: 'text/html' }],
          bodyValues: { t: { value: 'Hello Bob,\n你好。' }, h: { value: '<p>Hello Bob,<br>你好。</p>' } },
          attachments: [{ blobId: up.blobId, type: 'application/pdf', name: '报告.pdf' }],
        } as any,
      },
    });
    expect(set.notCreated ?? {}).toEqual({});
    const id = set.created!.d1.id;
    const [got] = await jam.api.Email.get({
      accountId, ids: [id], fetchTextBodyValues: true,
      properties: ['mailboxIds', 'keywords', 'from', 'to', 'bcc', 'subject', 'inReplyTo', 'textBody', 'bodyValues', 'attachments', 'header:X-Draft-Note:asText'],
    });
    const e = got.list[0] as any;
    expect(e).toMatchObject({
      mailboxIds: { [drafts]: true }, keywords: { $draft: true, $seen: true }, subject: '草稿 draft one',
      from: [{ name: 'Alice 爱丽丝', email: alice.address }], to: [{ name: 'Bob', email: bob.address }], bcc: [{ email: 'hidden@example.org' }],
      inReplyTo: ['orig.1@example.org'], 'header:X-Draft-Note:asText': 'written over JMAP',
    });
    // The message is stored with CRLF line ends, and Email/get gives the text as stored.
    expect(e.bodyValues[e.textBody[0].partId].value).toBe('Hello Bob,\r\n你好。');
    expect(e.attachments).toHaveLength(1);
    expect(e.attachments[0]).toMatchObject({ name: '报告.pdf', type: 'application/pdf' });
    const down = await jam.downloadBlob({ accountId, blobId: e.attachments[0].blobId, mimeType: 'application/pdf', fileName: 'a.pdf' });
    expect(Buffer.from(await down.arrayBuffer()).equals(pdf)).toBe(true);
  });

  it('composes a draft from bodyStructure: nested multiparts, text parts from bodyValues, blob parts with cid and name', async () => {
    const drafts = await folderId(alice, 'drafts');
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const pdf = Buffer.from('%PDF-1.4 结构 structure\n');
    const image = await jam.uploadBlob(accountId, new Blob([png], { type: 'image/png' }));
    const doc = await jam.uploadBlob(accountId, new Blob([pdf], { type: 'application/pdf' }));
    const r = await call(alice, 'Email/set', {
      create: {
        s1: {
          mailboxIds: { [drafts]: true }, from: [{ email: alice.address }], to: [{ email: bob.address }], subject: '结构 structure',
          bodyValues: { t: { value: 'Plain 你好\nline two' }, h: { value: '<p>Rich <img src="cid:logo@x"></p>' } },
          bodyStructure: {
            type: 'multipart/mixed',
            subParts: [
              {
                type: 'multipart/related',
                subParts: [
                  { type: 'multipart/alternative', subParts: [{ partId: 't', type: 'text/plain' }, { partId: 'h', type: 'text/html' }] },
                  { blobId: image.blobId, type: 'image/png', disposition: 'inline', cid: 'logo@x' },
                ],
              },
              { blobId: doc.blobId, type: 'application/pdf', name: '结构.pdf' },
            ],
          },
        },
      },
    });
    expect(r.notCreated, JSON.stringify(r.notCreated)).toEqual({});
    const id = r.created.s1.id;
    const got = await call(alice, 'Email/get', { ids: [id], fetchAllBodyValues: true, properties: ['subject', 'bodyStructure', 'textBody', 'htmlBody', 'attachments', 'bodyValues'],
      bodyProperties: ['partId', 'blobId', 'type', 'name', 'disposition', 'cid', 'subParts'] });
    const e = got.list[0];
    expect(e.subject).toBe('结构 structure');
    const shape = (part: any): any => (part.subParts ? { type: part.type, subParts: part.subParts.map(shape) } : part.type);
    expect(shape(e.bodyStructure)).toEqual({
      type: 'multipart/mixed',
      subParts: [
        { type: 'multipart/related', subParts: [{ type: 'multipart/alternative', subParts: ['text/plain', 'text/html'] }, 'image/png'] },
        'application/pdf',
      ],
    });
    expect(e.bodyValues[e.textBody[0].partId].value).toBe('Plain 你好\r\nline two');
    expect(e.bodyValues[e.htmlBody[0].partId].value).toContain('cid:logo@x');
    const pdfPart = e.attachments.find((a: any) => a.type === 'application/pdf');
    expect(pdfPart).toMatchObject({ name: '结构.pdf', disposition: 'attachment' });
    const pngPart = e.bodyStructure.subParts[0].subParts[1];
    expect(pngPart).toMatchObject({ cid: 'logo@x', disposition: 'inline' });
    const down = await jam.downloadBlob({ accountId, blobId: pdfPart.blobId, mimeType: 'application/pdf', fileName: 'a.pdf' });
    expect(Buffer.from(await down.arrayBuffer()).equals(pdf)).toBe(true);
    const img = await jam.downloadBlob({ accountId, blobId: pngPart.blobId, mimeType: 'image/png', fileName: 'a.png' });
    expect(Buffer.from(await img.arrayBuffer()).equals(png)).toBe(true);

    // Bad trees: refused per record with the part's path, nothing stored.
    const bad = await call(alice, 'Email/set', {
      create: {
        both: { mailboxIds: { [drafts]: true }, bodyValues: { t: { value: 'x' } }, bodyStructure: { partId: 't', blobId: image.blobId } },
        emptyMulti: { mailboxIds: { [drafts]: true }, bodyValues: { t: { value: 'x' } }, bodyStructure: { type: 'multipart/mixed', subParts: [{ partId: 't' }, { type: 'multipart/alternative' }] } },
        noValue: { mailboxIds: { [drafts]: true }, bodyStructure: { type: 'multipart/mixed', subParts: [{ partId: 'nope' }] } },
        htmlBlobAsText: { mailboxIds: { [drafts]: true }, bodyValues: { t: { value: 'x' } }, bodyStructure: { partId: 't', type: 'image/png' } },
        noBlob: { mailboxIds: { [drafts]: true }, bodyStructure: { type: 'multipart/mixed', subParts: [{ blobId: `U${'2'.repeat(64)}` }] } },
      },
    });
    expect(bad.created).toEqual({});
    expect(bad.notCreated.both).toMatchObject({ type: 'invalidProperties', properties: ['bodyStructure'] });
    expect(bad.notCreated.emptyMulti).toMatchObject({ type: 'invalidProperties', properties: ['bodyStructure/subParts/1/subParts'] });
    expect(bad.notCreated.noValue).toMatchObject({ type: 'invalidProperties', properties: ['bodyValues'] });
    expect(bad.notCreated.htmlBlobAsText).toMatchObject({ type: 'invalidProperties', properties: ['bodyStructure/type'] });
    expect(bad.notCreated.noBlob).toMatchObject({ type: 'blobNotFound', properties: ['bodyStructure/subParts/0/blobId'] });
    expect(bad.newState).toBe(bad.oldState);
  });

  it('refuses bad create objects per record and stores none of them', async () => {
    const drafts = await folderId(alice, 'drafts');
    const r = await call(alice, 'Email/set', {
      create: {
        structure: { mailboxIds: { [drafts]: true }, bodyStructure: { type: 'text/plain', partId: 'x' }, textBody: [{ partId: 'x' }] },
        noValue: { mailboxIds: { [drafts]: true }, textBody: [{ partId: 'missing' }] },
        badFrom: { mailboxIds: { [drafts]: true }, from: [{ email: 'not an address' }] },
        managed: { mailboxIds: { [drafts]: true }, 'header:Subject:asText': 'x' },
        noBlob: { mailboxIds: { [drafts]: true }, attachments: [{ blobId: `U${'1'.repeat(64)}` }] },
      },
    });
    expect(r.created).toEqual({});
    expect(r.notCreated.structure).toMatchObject({ type: 'invalidProperties', properties: ['textBody'] });
    expect(r.notCreated.noValue).toMatchObject({ type: 'invalidProperties', properties: ['bodyValues'] });
    expect(r.notCreated.badFrom).toMatchObject({ type: 'invalidProperties', properties: ['from'] });
    expect(r.notCreated.managed).toMatchObject({ type: 'invalidProperties' });
    expect(r.notCreated.noBlob).toMatchObject({ type: 'blobNotFound' });
    expect(r.newState).toBe(r.oldState);
  });
});

describe('EmailSubmission/set', () => {
  async function draft(from: string, subject: string): Promise<string> {
    const drafts = await folderId(alice, 'drafts');
    const r = await call(alice, 'Email/set', {
      create: {
        d: {
          mailboxIds: { [drafts]: true }, keywords: { $draft: true, $seen: true },
          from: [{ name: 'Alice', email: from }], to: [{ email: bob.address }], bcc: [{ email: 'sales@jmapsend.test' }],
          subject, textBody: [{ partId: 't' }], bodyValues: { t: { value: `Body of ${subject}` } },
        },
      },
    });
    expect(r.notCreated, JSON.stringify(r.notCreated)).toEqual({});
    return r.created.d.id;
  }
  const spooled = async () => (await api.db.dataSource.query(
    `SELECT m.id, m.mail_from, m.auth_mailbox_id, array_agg(r.address ORDER BY r.address) AS rcpts
       FROM spool_message m JOIN spool_recipient r ON r.message_id = m.id GROUP BY m.id`,
  )) as Array<{ id: string; mail_from: string; auth_mailbox_id: string; rcpts: string[] }>;

  it('sends a draft as an identity: spooled for To and Bcc (Bcc: removed), then moved to Sent without $draft (implicit Email/set)', async () => {
    const emailId = await draft(alice.address, 'Sent over JMAP');
    const [{ list: [identity] }] = await jam.api.Identity.get({ accountId, ids: null });
    const sent = await folderId(alice, 'sent');
    const drafts = await folderId(alice, 'drafts');
    const before = (await spooled()).length;
    const res = await fetch(`${api.url}/jmap/api`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        using: [CORE, MAIL, SUBMISSION],
        methodCalls: [['EmailSubmission/set', {
          accountId,
          create: { s1: { identityId: identity.id, emailId } },
          onSuccessUpdateEmail: { '#s1': { [`mailboxIds/${drafts}`]: null, [`mailboxIds/${sent}`]: true, 'keywords/$draft': null } },
        }, 'c1']],
      }),
    });
    const body: any = await res.json();
    expect(res.status).toBe(200);
    const [[name, result, callId], [implicit, emailSet, implicitCallId]] = body.methodResponses;
    expect([name, callId, implicit, implicitCallId]).toEqual(['EmailSubmission/set', 'c1', 'Email/set', 'c1']);
    expect(result.notCreated).toEqual({});
    expect(result.created.s1).toMatchObject({ undoStatus: 'final' });
    expect(emailSet.updated).toEqual({ [emailId]: null });
    const got0 = await call(alice, 'EmailSubmission/get', { ids: [result.created.s1.id, 'unknown-id'] }, [CORE, MAIL, SUBMISSION]);
    expect(got0.list).toEqual([expect.objectContaining({
      id: result.created.s1.id, identityId: identity.id, emailId, undoStatus: 'final',
      envelope: { mailFrom: { email: alice.address, parameters: null }, rcptTo: expect.arrayContaining([{ email: bob.address, parameters: null }]) },
    })]);
    expect(got0.notFound).toEqual(['unknown-id']);

    const rows = await spooled();
    expect(rows.length).toBe(before + 1);
    const row = rows.find((r) => r.id === result.created.s1.id)!;
    expect(row).toMatchObject({ mail_from: alice.address, auth_mailbox_id: alice.id, rcpts: [bob.address, 'sales@jmapsend.test'].sort() });
    const [{ blob_hash }] = await api.db.dataSource.query(`SELECT blob_hash FROM spool_message WHERE id = $1`, [row.id]);
    const blobs = new FsBlobStore(blobDir);
    try {
      const raw = (await blobs.read(blob_hash)).toString('utf8');
      expect(raw).toMatch(/^Subject: Sent over JMAP/m);
      expect(raw).toMatch(/^To: bob@jmapsend\.test/m);
      expect(raw).not.toMatch(/^Bcc:/im);
    } finally {
      await blobs.close();
    }

    const [got] = await jam.api.Email.get({ accountId, ids: [emailId], properties: ['mailboxIds', 'keywords'] });
    expect(got.list[0]).toMatchObject({ mailboxIds: { [sent]: true }, keywords: { $seen: true } });
    expect((got.list[0] as any).keywords.$draft).toBeUndefined();
  });

  it('refuses a From the user does not own (forbiddenFrom) and an unknown local recipient (invalidRecipients); nothing is spooled', async () => {
    const forged = await draft('ceo@jmapsend.test', 'Forged');
    const [{ list: [identity] }] = await jam.api.Identity.get({ accountId, ids: null });
    const before = (await spooled()).length;
    const r = await call(alice, 'EmailSubmission/set', {
      create: {
        forged: { identityId: identity.id, emailId: forged },
        unknown: { identityId: identity.id, emailId: forged, envelope: { mailFrom: { email: alice.address }, rcptTo: [{ email: 'nobody@jmapsend.test' }] } },
        notMine: { identityId: 'I' + Buffer.from('ceo@jmapsend.test').toString('base64url'), emailId: forged },
        badMailFrom: { identityId: identity.id, emailId: forged, envelope: { mailFrom: { email: 'ceo@jmapsend.test' }, rcptTo: [{ email: bob.address }] } },
      },
    }, [CORE, MAIL, SUBMISSION]);
    expect(r.created).toEqual({});
    expect(r.notCreated.forged).toMatchObject({ type: 'forbiddenFrom' });
    expect(r.notCreated.unknown).toMatchObject({ type: 'invalidRecipients', invalidRecipients: ['nobody@jmapsend.test'] });
    expect(r.notCreated.notMine).toMatchObject({ type: 'invalidProperties', properties: ['identityId'] });
    expect(r.notCreated.badMailFrom).toMatchObject({ type: 'forbiddenMailFrom' });
    expect((await spooled()).length).toBe(before);
  });
});
