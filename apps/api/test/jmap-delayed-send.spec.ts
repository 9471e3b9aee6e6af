/**
 * JMAP delayed sending and the stored submissions, against the real API on PostgreSQL and Redis (jmap-jam for the
 * session): EmailSubmission/set create held by HOLDFOR/HOLDUNTIL/sendAt (RFC 8621 §7, RFC 4865) as a spool row with a
 * release time that no node claims before it and the sweeper finds after it; undo (undoStatus canceled) takes the
 * message out of the spool; maxDelayedSend is the operator's setting; EmailSubmission/query and /changes agree with /get.
 */
import { JamClient } from 'jmap-jam';
import { Pool } from 'pg';
import { PgSpoolStore } from '@dizi/delivery/adapters/postgres/pg-spool-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './harness';
import { createTenant, signedInMailbox, type SignedInMailbox } from './mail-admin-fixture';

const MAIL = 'urn:ietf:params:jmap:mail';
const CORE = 'urn:ietf:params:jmap:core';
const SUBMISSION = 'urn:ietf:params:jmap:submission';
const USING = [CORE, MAIL, SUBMISSION];

let api: TestApi;
let alice: SignedInMailbox;
let bob: SignedInMailbox;
let op: string;
let pool: Pool;
let identityId: string;

async function call(method: string, args: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${api.url}/jmap/api`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ using: USING, methodCalls: [[method, { accountId: alice.id, ...args }, 'c']] }),
  });
  const body: any = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  const [name, result] = body.methodResponses[0];
  expect(name, JSON.stringify(result)).toBe(method);
  return result;
}

async function draft(subject: string): Promise<string> {
  const mailboxes = await call('Mailbox/get', { ids: null });
  const drafts = mailboxes.list.find((m: { role: string | null }) => m.role === 'drafts').id;
  const r = await call('Email/set', {
    create: {
      d: {
        mailboxIds: { [drafts]: true }, keywords: { $draft: true },
        from: [{ email: alice.address }], to: [{ email: bob.address }], subject, textBody: [{ partId: 't' }], bodyValues: { t: { value: subject } },
      },
    },
  });
  expect(r.notCreated, JSON.stringify(r.notCreated)).toEqual({});
  return r.created.d.id;
}

async function submit(emailId: string, extra: Record<string, unknown> = {}): Promise<any> {
  return call('EmailSubmission/set', { create: { s: { identityId, emailId, ...extra } } });
}

const hold = (parameters: Record<string, string>) => ({
  envelope: { mailFrom: { email: alice.address, parameters }, rcptTo: [{ email: bob.address }] },
});

async function spoolOf(id: string) {
  const [message] = await api.db.dataSource.query(`SELECT release_at, done_at FROM spool_message WHERE id = $1`, [id]);
  const recipients = await api.db.dataSource.query(`SELECT status, attempts, next_attempt_at FROM spool_recipient WHERE message_id = $1`, [id]);
  return { message, recipients };
}

beforeAll(async () => {
  api = await startTestApi();
  op = await api.operatorToken();
  const [domain] = (await createTenant(api, op, 'JmapLater', ['jmaplater.test'])).domains;
  alice = await signedInMailbox(api, domain, 'alice', 'user');
  bob = await signedInMailbox(api, domain, 'bob', 'user');
  pool = new Pool({ connectionString: api.db.url, max: 2 });
  const got = await call('Identity/get', { ids: null });
  identityId = got.list[0].id;
});

afterAll(async () => {
  await pool?.end();
  await api?.close();
});

describe('delayed sending', () => {
  it('announces maxDelayedSend and FUTURERELEASE in the session (jmap-jam)', async () => {
    const jam = new JamClient({ sessionUrl: `${api.url}/jmap/session`, bearerToken: alice.token });
    const session: any = await jam.session;
    const capability = session.accounts[alice.id].accountCapabilities[SUBMISSION];
    expect(capability.maxDelayedSend).toBe(30 * 86_400);
    expect(capability.submissionExtensions).toEqual({ FUTURERELEASE: [String(30 * 86_400)] });
  });

  it('holds a HOLDFOR submission in the spool (pending), shows it in /get, /query and /changes, and cancels it', async () => {
    const before = await call('EmailSubmission/get', { ids: [] });
    const emailId = await draft('Later, HOLDFOR');
    const t0 = Date.now();
    const set = await submit(emailId, hold({ HOLDFOR: '3600' }));
    expect(set.notCreated).toEqual({});
    const created = set.created.s;
    expect(created.undoStatus).toBe('pending');
    const sendAt = Date.parse(created.sendAt);
    expect(sendAt).toBeGreaterThanOrEqual(t0 + 3_599_000);
    expect(sendAt).toBeLessThanOrEqual(Date.now() + 3_601_000);
    expect(set.newState).not.toBe(set.oldState);

    // Durable and held: the spool row carries the release time, its recipient is due only then and untouched.
    const held = await spoolOf(created.id);
    expect(new Date(held.message.release_at).getTime()).toBe(sendAt);
    expect(held.message.done_at).toBeNull();
    expect(held.recipients).toHaveLength(1);
    expect(held.recipients[0]).toMatchObject({ status: 'queued', attempts: 0 });
    expect(new Date(held.recipients[0].next_attempt_at).getTime()).toBe(sendAt);
    // The sweeper does not hand it to the queues before its time.
    const spool = new PgSpoolStore(pool);
    expect(await spool.dueLocalMessages(0, 10_000)).not.toContain(created.id);

    const got = await call('EmailSubmission/get', { ids: [created.id] });
    expect(got.list[0]).toMatchObject({ id: created.id, emailId, undoStatus: 'pending', sendAt: created.sendAt, identityId });
    const pending = await call('EmailSubmission/query', { filter: { undoStatus: 'pending' } });
    expect(pending.ids).toEqual([created.id]);
    const changes = await call('EmailSubmission/changes', { sinceState: before.state });
    expect(changes).toMatchObject({ created: [created.id], updated: [], destroyed: [], newState: got.state, hasMoreChanges: false });

    // Undo: the message leaves the spool and the submission says canceled.
    const cancel = await call('EmailSubmission/set', { update: { [created.id]: { undoStatus: 'canceled' } } });
    expect(cancel.notUpdated).toEqual({});
    expect(cancel.updated).toEqual({ [created.id]: null });
    const after = await spoolOf(created.id);
    expect(after.recipients[0].status).toBe('deleted');
    expect(after.message.done_at).not.toBeNull();
    expect(await spool.dueLocalMessages(0, 10_000)).not.toContain(created.id);
    const canceled = await call('EmailSubmission/get', { ids: [created.id], properties: ['undoStatus'] });
    expect(canceled.list).toEqual([{ id: created.id, undoStatus: 'canceled' }]);
    const changed = await call('EmailSubmission/changes', { sinceState: got.state });
    expect(changed).toMatchObject({ created: [], updated: [created.id], destroyed: [] });
    // Canceled is final: not again.
    const again = await call('EmailSubmission/set', { update: { [created.id]: { undoStatus: 'canceled' } } });
    expect(again.notUpdated[created.id]).toMatchObject({ type: 'cannotUnsend' });
  });

  it('releases a held message at its time: the sweeper finds it due, undo is refused, /get says final', async () => {
    const emailId = await draft('Later, HOLDUNTIL');
    const until = new Date(Date.now() + 3000).toISOString().replace(/\.\d+Z$/, 'Z');
    const set = await submit(emailId, hold({ HOLDUNTIL: until }));
    expect(set.notCreated).toEqual({});
    const id = set.created.s.id;
    expect(set.created.s.undoStatus).toBe('pending');
    const spool = new PgSpoolStore(pool);
    expect(await spool.dueLocalMessages(0, 10_000)).not.toContain(id);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(set.created.s.sendAt) - Date.now()) + 300));
    expect(await spool.dueLocalMessages(0, 10_000)).toContain(id);
    const late = await call('EmailSubmission/set', { update: { [id]: { undoStatus: 'canceled' } } });
    expect(late.notUpdated[id]).toMatchObject({ type: 'cannotUnsend' });
    const { recipients } = await spoolOf(id);
    expect(recipients[0].status).toBe('queued');
    const got = await call('EmailSubmission/get', { ids: [id], properties: ['undoStatus'] });
    expect(got.list[0].undoStatus).toBe('final');
  });

  it('refuses a release time beyond maxDelayedSend, bad parameters, and delayed sending once the operator sets 0; nothing is spooled', async () => {
    const emailId = await draft('Too late');
    const count = async () => Number((await api.db.dataSource.query(`SELECT count(*) AS n FROM spool_message`))[0].n);
    const before = await count();
    const r = await call('EmailSubmission/set', {
      create: {
        far: { identityId, emailId, ...hold({ HOLDFOR: String(31 * 86_400) }) },
        bad: { identityId, emailId, ...hold({ HOLDUNTIL: 'tomorrow' }) },
        both: { identityId, emailId, sendAt: '2030-01-01T00:00:00Z', ...hold({ HOLDFOR: '60' }) },
        other: { identityId, emailId, ...hold({ SMTPUTF8: '' }) },
      },
    });
    expect(r.created).toEqual({});
    expect(r.notCreated.far).toMatchObject({ type: 'invalidProperties', properties: ['envelope/mailFrom/parameters'] });
    expect(r.notCreated.far.description).toMatch(/maxDelayedSend/);
    expect(r.notCreated.bad).toMatchObject({ type: 'invalidProperties' });
    expect(r.notCreated.both).toMatchObject({ type: 'invalidProperties', properties: ['sendAt'] });
    expect(r.notCreated.other).toMatchObject({ type: 'invalidProperties' });

    const off = await api.request('PATCH', '/api/settings/jmap', { token: op, body: { maxDelayedSend: 0 } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const session: any = await (await fetch(`${api.url}/jmap/session`, { headers: { authorization: `Bearer ${alice.token}` } })).json();
      expect(session.accounts[alice.id].accountCapabilities[SUBMISSION]).toEqual({ maxDelayedSend: 0, submissionExtensions: {} });
      const refused = await submit(emailId, { sendAt: new Date(Date.now() + 600_000).toISOString() });
      expect(refused.notCreated.s).toMatchObject({ type: 'invalidProperties', properties: ['sendAt'] });
      expect(refused.notCreated.s.description).toMatch(/turned off/);
    } finally {
      await api.request('PATCH', '/api/settings/jmap', { token: op, body: { maxDelayedSend: null } });
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    expect(await count()).toBe(before);
  });

  it('sends a sendAt in the past at once (final), and /query filters and sorts what /get shows; destroy forgets a submission', async () => {
    const a = await draft('Now A');
    const b = await draft('Now B');
    const first = await submit(a, { sendAt: '2020-01-01T00:00:00Z' });
    expect(first.notCreated).toEqual({});
    expect(first.created.s.undoStatus).toBe('final');
    const second = await submit(b);
    expect(second.created.s.undoStatus).toBe('final');
    const [ida, idb] = [first.created.s.id, second.created.s.id];
    const { recipients } = await spoolOf(ida);
    expect(new Date(recipients[0].next_attempt_at).getTime()).toBeLessThanOrEqual(Date.now());

    const byEmail = await call('EmailSubmission/query', { filter: { emailIds: [a, b] }, sort: [{ property: 'emailId', isAscending: false }], calculateTotal: true });
    expect(byEmail.total).toBe(2);
    expect(byEmail.ids).toEqual([a, b].sort().reverse().map((e) => (e === a ? ida : idb)));
    const final = await call('EmailSubmission/query', { filter: { undoStatus: 'final' }, calculateTotal: true });
    expect(final.ids).toEqual(expect.arrayContaining([ida, idb]));
    const canceled = await call('EmailSubmission/query', { filter: { undoStatus: 'canceled' } });
    expect(canceled.ids).toHaveLength(1);
    const future = await call('EmailSubmission/query', { filter: { after: '2099-01-01T00:00:00Z' } });
    expect(future.ids).toEqual([]);
    const page = await call('EmailSubmission/query', { sort: [{ property: 'sentAt', isAscending: true }], position: 1, limit: 1, calculateTotal: true });
    expect(page.ids).toHaveLength(1);
    expect(page.total).toBe(final.total + canceled.ids.length);
    const all = await call('EmailSubmission/get', { ids: (await call('EmailSubmission/query', { sort: [{ property: 'sentAt', isAscending: true }] })).ids, properties: ['sendAt'] });
    const times = all.list.map((s: { sendAt: string }) => Date.parse(s.sendAt));
    expect(times).toEqual([...times].sort((x, y) => x - y));

    const bad = await fetch(`${api.url}/jmap/api`, {
      method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ using: USING, methodCalls: [
        ['EmailSubmission/query', { accountId: alice.id, filter: { subject: 'x' } }, 'a'],
        ['EmailSubmission/query', { accountId: alice.id, sort: [{ property: 'size' }] }, 'b'],
        ['EmailSubmission/changes', { accountId: alice.id, sinceState: 'nonsense' }, 'c'],
      ] }),
    });
    const errors = (await bad.json() as any).methodResponses.map((m: any[]) => m[1].type);
    expect(errors).toEqual(['unsupportedFilter', 'unsupportedSort', 'cannotCalculateChanges']);

    const state = (await call('EmailSubmission/get', { ids: [] })).state;
    const destroyed = await call('EmailSubmission/set', { destroy: [ida, '00000000-0000-0000-0000-000000000000'] });
    expect(destroyed.destroyed).toEqual([ida]);
    expect(destroyed.notDestroyed['00000000-0000-0000-0000-000000000000']).toMatchObject({ type: 'notFound' });
    expect((await call('EmailSubmission/get', { ids: [ida] })).notFound).toEqual([ida]);
    expect(await call('EmailSubmission/changes', { sinceState: state })).toMatchObject({ created: [], updated: [], destroyed: [ida] });
    // The message was not affected: still in the spool for Bob.
    expect((await spoolOf(ida)).recipients[0].status).toBe('queued');
  });

  it('keeps each account to its own submissions', async () => {
    const mine = await call('EmailSubmission/query', {});
    expect(mine.ids.length).toBeGreaterThan(0);
    const res = await fetch(`${api.url}/jmap/api`, {
      method: 'POST', headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ using: USING, methodCalls: [
        ['EmailSubmission/query', { accountId: bob.id }, 'a'],
        ['EmailSubmission/get', { accountId: bob.id, ids: mine.ids }, 'b'],
        ['EmailSubmission/set', { accountId: bob.id, update: { [mine.ids[0]]: { undoStatus: 'canceled' } }, destroy: [mine.ids[0]] }, 'c'],
      ] }),
    });
    const [[, q], [, g], [, s]] = (await res.json() as any).methodResponses;
    expect(q.ids).toEqual([]);
    expect(g.list).toEqual([]);
    expect(s.notUpdated[mine.ids[0]]).toMatchObject({ type: 'notFound' });
    expect(s.notDestroyed[mine.ids[0]]).toMatchObject({ type: 'notFound' });
  });
});
