/**
 * Identity/set (RFC 8621 §6.3) against the real API on PostgreSQL: name, replyTo, bcc and up to three signatures
 * with one default stored per address; create only for addresses the user may send as, destroy refused; another
 * tenant's user reaches none of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './harness';
import { createTenant, signedInMailbox, type SignedInMailbox } from './mail-admin-fixture';

const CORE = 'urn:ietf:params:jmap:core';
const MAIL = 'urn:ietf:params:jmap:mail';
const SUBMISSION = 'urn:ietf:params:jmap:submission';

let api: TestApi;
let alice: SignedInMailbox;
let bob: SignedInMailbox;
let mallory: SignedInMailbox;
let blobDir: string;

async function call(who: SignedInMailbox, method: string, args: Record<string, unknown>, accountId = who.id): Promise<{ name: string; result: any }> {
  const res = await fetch(`${api.url}/jmap/api`, {
    method: 'POST',
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ using: [CORE, MAIL, SUBMISSION], methodCalls: [[method, { accountId, ...args }, 'c']] }),
  });
  const body: any = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  const [name, result] = body.methodResponses[0];
  return { name, result };
}

async function ok(who: SignedInMailbox, method: string, args: Record<string, unknown>): Promise<any> {
  const { name, result } = await call(who, method, args);
  expect(name, JSON.stringify(result)).toBe(method);
  return result;
}

const SIGNATURES = [
  { name: 'Work', textSignature: '-- \nAlice, Sales', htmlSignature: '<p>Alice, <b>Sales</b></p>', isDefault: false },
  { name: '中文', textSignature: '-- \n爱丽丝 · 销售部', htmlSignature: '<p>爱丽丝 · <i>销售部</i></p>', isDefault: true },
  { name: 'Short', textSignature: 'A.', htmlSignature: '', isDefault: false },
];

beforeAll(async () => {
  blobDir = mkdtempSync(join(tmpdir(), 'dizi-jmap-identity-'));
  api = await startTestApi({ BLOB_DIR: blobDir });
  const op = await api.operatorToken();
  const [domain] = (await createTenant(api, op, 'IdentityOne', ['identity-one.test'])).domains;
  const [other] = (await createTenant(api, op, 'IdentityTwo', ['identity-two.test'])).domains;
  alice = await signedInMailbox(api, domain, 'alice', 'user');
  bob = await signedInMailbox(api, domain, 'bob', 'user');
  mallory = await signedInMailbox(api, other, 'mallory', 'user');
});

afterAll(async () => {
  await api?.close();
  if (blobDir) rmSync(blobDir, { recursive: true, force: true });
});

describe('Identity/set', () => {
  it('updates name, replyTo, bcc and three signatures; the default one is textSignature/htmlSignature; changes follow', async () => {
    const first = await ok(alice, 'Identity/get', { ids: null });
    const [identity] = first.list;
    expect(identity).toMatchObject({ email: alice.address, textSignature: '', htmlSignature: '', signatures: [], replyTo: null });

    const set = await ok(alice, 'Identity/set', {
      ifInState: first.state,
      update: { [identity.id]: { name: 'Alice 王', replyTo: [{ name: 'Sales', email: 'sales@identity-one.test' }], bcc: [{ email: 'archive@identity-one.test' }], signatures: SIGNATURES } },
    });
    expect(set.notUpdated, JSON.stringify(set.notUpdated)).toEqual({});
    expect(set.updated).toEqual({ [identity.id]: null });
    expect(set.oldState).toBe(first.state);
    expect(set.newState).not.toBe(first.state);

    const now = await ok(alice, 'Identity/get', { ids: [identity.id] });
    expect(now.state).toBe(set.newState);
    expect(now.list[0]).toMatchObject({
      name: 'Alice 王', email: alice.address,
      replyTo: [{ name: 'Sales', email: 'sales@identity-one.test' }], bcc: [{ name: null, email: 'archive@identity-one.test' }],
      textSignature: '-- \n爱丽丝 · 销售部', htmlSignature: '<p>爱丽丝 · <i>销售部</i></p>', signatures: SIGNATURES,
    });
    const changes = await ok(alice, 'Identity/changes', { sinceState: first.state });
    expect(changes).toMatchObject({ created: [], updated: [identity.id], destroyed: [], newState: set.newState });

    // textSignature alone writes the default signature; the others stay.
    const again = await ok(alice, 'Identity/set', { update: { [identity.id]: { textSignature: '-- \n新的签名' } } });
    expect(again.updated).toEqual({ [identity.id]: null });
    const after = (await ok(alice, 'Identity/get', { ids: [identity.id], properties: ['textSignature', 'signatures'] })).list[0];
    expect(after.textSignature).toBe('-- \n新的签名');
    expect(after.signatures.map((s: { textSignature: string }) => s.textSignature)).toEqual(['-- \nAlice, Sales', '-- \n新的签名', 'A.']);

    // Stale ifInState changes nothing.
    const stale = await call(alice, 'Identity/set', { ifInState: first.state, update: { [identity.id]: { name: 'Stale' } } });
    expect(stale.name).toBe('error');
    expect(stale.result.type).toBe('stateMismatch');
  });

  it('refuses bad records with a message that says what to fix, and changes nothing', async () => {
    const before = await ok(alice, 'Identity/get', { ids: null });
    const id = before.list[0].id;
    const bad: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ signatures: [...SIGNATURES, { name: 'Fourth', textSignature: '', htmlSignature: '', isDefault: false }] }, 'signatures', /at most 3/],
      [{ signatures: SIGNATURES.map((s) => ({ ...s, isDefault: true })) }, 'signatures', /exactly one/],
      [{ signatures: [{ name: 'x', textSignature: 'y', isDefault: true, script: 1 }] }, 'signatures', /not script/],
      [{ replyTo: [{ email: 'not an address' }] }, 'replyTo', /not an email address/],
      [{ name: 'two\r\nlines' }, 'name', /one line/],
      [{ email: 'other@identity-one.test' }, 'email', /cannot change/],
      [{ mayDelete: true }, 'mayDelete', /server/],
      [{ textSignature: 'x'.repeat(20_001) }, 'textSignature', /at most 20000/],
      [{ colour: 'red' }, 'colour', /unknown/],
    ];
    for (const [patch, property, message] of bad) {
      const r = await ok(alice, 'Identity/set', { update: { [id]: patch } });
      expect(r.updated, JSON.stringify(patch)).toEqual({});
      expect(r.notUpdated[id], JSON.stringify(patch)).toMatchObject({ type: 'invalidProperties', properties: [property] });
      expect(r.notUpdated[id].description).toMatch(message);
      expect(r.newState).toBe(before.state);
    }
    expect((await ok(alice, 'Identity/get', { ids: null })).list).toEqual(before.list);
  });

  it('creates only for addresses the user may send as, and never destroys', async () => {
    const { list: [own] } = await ok(alice, 'Identity/get', { ids: null });
    const r = await ok(alice, 'Identity/set', {
      create: { other: { email: bob.address, name: 'Not me' }, mine: { email: alice.address.toUpperCase() }, none: { name: 'no address' } },
      destroy: [own.id, 'Inobody'],
    });
    expect(r.created).toEqual({});
    expect(r.notCreated.other).toMatchObject({ type: 'forbiddenFrom', properties: ['email'] });
    expect(r.notCreated.mine).toMatchObject({ type: 'alreadyExists', existingId: own.id });
    expect(r.notCreated.none).toMatchObject({ type: 'invalidProperties', properties: ['email'] });
    expect(r.notDestroyed[own.id].type).toBe('forbidden');
    expect(r.notDestroyed.Inobody.type).toBe('notFound');
    expect((await ok(alice, 'Identity/get', { ids: null })).list.map((i: { email: string }) => i.email)).toEqual([alice.address]);

    // An alias delivering to Alice becomes an identity she can give its own signature.
    const op = await api.operatorToken();
    expect((await api.request('POST', '/api/aliases', { token: op, body: { address: 'team@identity-one.test', destinations: [alice.address] } })).status).toBe(201);
    const both = await ok(alice, 'Identity/get', { ids: null });
    const team = both.list.find((i: { email: string }) => i.email === 'team@identity-one.test');
    const set = await ok(alice, 'Identity/set', { update: { [team.id]: { htmlSignature: '<p>The team</p>' } } });
    expect(set.updated).toEqual({ [team.id]: null });
    const read = (await ok(alice, 'Identity/get', { ids: [team.id, own.id], properties: ['email', 'htmlSignature'] })).list;
    expect(read).toEqual([{ id: team.id, email: 'team@identity-one.test', htmlSignature: '<p>The team</p>' }, { id: own.id, email: alice.address, htmlSignature: '<p>爱丽丝 · <i>销售部</i></p>' }]);
  });

  it("another tenant's user can neither read nor change Alice's identities", async () => {
    const { list: [own] } = await ok(alice, 'Identity/get', { ids: null });
    const theirs = await call(mallory, 'Identity/set', { update: { [own.id]: { name: 'Hijacked' } } }, alice.id);
    expect(theirs.name).toBe('error');
    expect(theirs.result.type).toBe('accountNotFound');
    const own2 = await ok(mallory, 'Identity/set', { update: { [own.id]: { name: 'Hijacked' } } });
    expect(own2.notUpdated[own.id].type).toBe('notFound');
    const read = await call(mallory, 'Identity/get', { ids: [own.id] }, alice.id);
    expect(read.result.type).toBe('accountNotFound');
    expect((await ok(alice, 'Identity/get', { ids: [own.id], properties: ['name'] })).list[0].name).toBe('Alice 王');
    // Mallory's own identity is untouched by Alice's settings.
    expect((await ok(mallory, 'Identity/get', { ids: null })).list[0]).toMatchObject({ email: mallory.address, signatures: [], textSignature: '' });
  });
});
