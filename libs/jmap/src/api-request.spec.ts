import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '@dizi/mail-store/adapters/memory-blob-store';
import { MemoryMessageStore } from '@dizi/mail-store/adapters/memory-message-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { ALL_METHODS } from './all-methods';
import { JmapApi } from './api-request';
import { CORE, MAIL } from './capabilities';
import { JmapRequestError } from './errors';
import { DEFAULT_JMAP_LIMITS } from './limits';
import type { JmapAccount, JmapMethod } from './method';

const account: JmapAccount = { accountId: 'acc', mailboxId: 'mb', name: 'alice@example.test' };

async function setup(methods: readonly JmapMethod[] = ALL_METHODS, limits = DEFAULT_JMAP_LIMITS) {
  const store = new MemoryMessageStore({ blobs: new MemoryBlobStore(), notifier: new MemoryNotifier() });
  store.addMailbox('mb', 1e9);
  await store.createDefaultFolders('mb');
  const api = new JmapApi({ store, limits: () => limits, methods, sessionState: () => 's1' });
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await api.handle(account, JSON.stringify({ using: [CORE, MAIL], methodCalls: [[name, { accountId: 'acc', ...args }, 'c']] }));
    return r.methodResponses[0];
  };
  return { store, api, call };
}

async function append(store: MemoryMessageStore, folder: string, subject: string) {
  const blob = await store.putBlob(Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`));
  return store.append('mb', { name: folder }, { blobHash: blob.hash, summary: {} }, { enforceQuota: true });
}

describe('JmapApi over the memory store', () => {
  it('refuses a request beyond maxConcurrentRequests while others of the account run', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: JmapMethod = { name: 'Core/echo', capability: CORE, run: async (args) => (await gate, args) };
    const { api } = await setup([slow], { ...DEFAULT_JMAP_LIMITS, maxConcurrentRequests: 1 });
    const body = JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', {}, 'c']] });
    const first = api.handle(account, body);
    await expect(api.handle(account, body)).rejects.toMatchObject({ type: 'limit', limit: 'maxConcurrentRequests' });
    const other = api.handle({ ...account, accountId: 'other' }, body);
    release();
    await Promise.all([first, other]);
    await expect(api.handle(account, body)).resolves.toBeDefined();
  });

  it('answers an unexpected failure as serverFail and goes on', async () => {
    const broken: JmapMethod = { name: 'Core/echo', capability: CORE, run: async () => { throw new Error('boom'); } };
    const { api } = await setup([broken]);
    const r = await api.handle(account, JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', {}, 'a'], ['Core/echo', {}, 'b']] }));
    expect(r.methodResponses.map(([name, args, id]) => [name, args.type, id])).toEqual([['error', 'serverFail', 'a'], ['error', 'serverFail', 'b']]);
    await expect(api.handle(account, '[1]')).rejects.toBeInstanceOf(JmapRequestError);
  });

  it('tells created, updated and destroyed mailboxes, counts-only updates by their properties', async () => {
    const { store, call } = await setup();
    const [, first] = await call('Mailbox/get', { ids: [] });
    await append(store, 'INBOX', 'one');
    const [, counts] = await call('Mailbox/changes', { sinceState: first.state });
    const inbox = (await store.getFolder('mb', { name: 'INBOX' })).id;
    expect(counts).toMatchObject({ created: [], updated: [inbox], destroyed: [], updatedProperties: ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads'] });
    const work = await store.createFolder('mb', 'Work');
    const [, created] = await call('Mailbox/changes', { sinceState: counts.newState });
    expect(created).toMatchObject({ created: [work.id], updated: [], destroyed: [] });
    await store.deleteFolder('mb', { id: work.id });
    await store.renameFolder('mb', { name: 'Junk' }, 'Spam');
    const junk = (await store.getFolder('mb', { name: 'Spam' })).id;
    const [, both] = await call('Mailbox/changes', { sinceState: counts.newState, maxChanges: 1 });
    expect(both).toMatchObject({ created: [], updated: [junk], destroyed: [], hasMoreChanges: false, updatedProperties: null });
    const [, destroyed] = await call('Mailbox/changes', { sinceState: created.newState });
    expect(destroyed).toMatchObject({ updated: [junk], destroyed: [work.id] });
  });

  it('reports a move as an update, and cannot calculate changes past a destroyed folder', async () => {
    const { store, call } = await setup();
    const work = await store.createFolder('mb', 'Work');
    const a = await append(store, 'Work', 'a');
    const [, before] = await call('Email/get', { ids: [] });
    const inbox = (await store.getFolder('mb', { name: 'INBOX' })).id;
    await store.move(work.id, [{ from: a.uid, to: a.uid }], inbox);
    const [, moved] = await call('Email/changes', { sinceState: before.state });
    expect(moved).toMatchObject({ created: [], updated: [`M${a.messageId}`], destroyed: [] });
    await store.deleteFolder('mb', { id: work.id });
    const [name, err] = await call('Email/changes', { sinceState: before.state });
    expect([name, err.type]).toEqual(['error', 'cannotCalculateChanges']);
    const [, fromMoved] = await call('Email/changes', { sinceState: moved.newState });
    expect(fromMoved).toMatchObject({ created: [], updated: [], destroyed: [] });
  });
});
