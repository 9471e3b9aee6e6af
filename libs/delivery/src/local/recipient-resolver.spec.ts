/** Recipient expansion on the memory directory: groups, aliases, catch-alls, forwarding and their loops, no database. */
import { describe, expect, it } from 'vitest';
import { Srs } from '@dizi/smtp/srs/srs';
import { MemoryDirectoryStore } from '../adapters/memory/memory-directory-store';
import { forwardingSenders } from './forward-sender';
import { filterFolders } from './filter-folder';
import { MAX_EXPANSION_DEPTH, RecipientResolver, type SenderIdentity } from './recipient-resolver';

const outsider: SenderIdentity = { address: 'someone@remote.test', authenticated: false, isLocal: false, xLoop: new Set() };

function directory() {
  const d = new MemoryDirectoryStore().addDomain('a.test').addDomain('off.test', 'suspended');
  const alice = d.addMailbox('alice@a.test', { displayName: 'Alice' });
  const bob = d.addMailbox('bob@a.test');
  d.addMailbox('carol@a.test', { status: 'suspended' });
  return { d, alice, bob };
}

const stored = (e: { mailboxes: Map<string, { address: string; store: boolean }> }) =>
  [...e.mailboxes.values()].filter((t) => t.store).map((t) => t.address).sort();

describe('RecipientResolver on the memory directory', () => {
  it('delivers to a mailbox, refuses a disabled one, an unknown one and a domain that takes no mail', async () => {
    const { d } = directory();
    const r = new RecipientResolver(d);
    expect(stored(await r.expand('Alice@A.test', outsider))).toEqual(['alice@a.test']);
    expect((await r.expand('carol@a.test', outsider)).failures).toEqual([{ address: 'carol@a.test', status: '5.2.1', reason: 'the mailbox is disabled' }]);
    expect((await r.expand('nobody@a.test', outsider)).failures.map((f) => f.status)).toEqual(['5.1.1']);
    expect((await r.expand('x@off.test', outsider)).failures.map((f) => f.status)).toEqual(['5.2.1']);
    const remote = await r.expand('x@elsewhere.test', outsider);
    expect([...remote.remotes]).toEqual(['x@elsewhere.test']);
  });

  it('expands aliases, then the catch-all only for addresses nothing else names', async () => {
    const { d } = directory();
    d.addAlias('team@a.test', ['alice@a.test', 'bob@a.test', 'friend@remote.test']);
    d.addAlias('*@a.test', ['bob@a.test']);
    d.addAlias('off@a.test', ['alice@a.test'], false);
    const r = new RecipientResolver(d);
    const team = await r.expand('team@a.test', outsider);
    expect(stored(team)).toEqual(['alice@a.test', 'bob@a.test']);
    expect([...team.remotes]).toEqual(['friend@remote.test']);
    expect(stored(await r.expand('whoever@a.test', outsider))).toEqual(['bob@a.test']);
    // A disabled alias is as if absent: the catch-all takes it.
    expect(stored(await r.expand('off@a.test', outsider))).toEqual(['bob@a.test']);
  });

  it('applies the posting policy of a group once, not to groups nested in it, and expands wildcard members', async () => {
    const { d } = directory();
    d.addMailbox('dan@a.test');
    d.addGroup('staff@a.test', ['alice@a.test', 'inner@a.test'], { postingPolicy: 'members' });
    d.addGroup('inner@a.test', ['bob@a.test'], { postingPolicy: 'members' });
    d.addGroup('all@a.test', ['*@a.test', '*@remote.test'], { postingPolicy: 'local' });
    const r = new RecipientResolver(d);
    const refused = await r.expand('staff@a.test', outsider);
    expect(refused.mailboxes.size).toBe(0);
    expect(refused.failures).toEqual([{ address: 'staff@a.test', status: '5.7.1', reason: 'the sender may not post to the group (policy members)' }]);

    const member: SenderIdentity = { address: 'alice@a.test', authenticated: true, isLocal: true, xLoop: new Set() };
    const ok = await r.expand('staff@a.test', member);
    expect(ok.failures).toEqual([]);
    expect(stored(ok)).toEqual(['alice@a.test', 'bob@a.test']);
    expect([...ok.mailboxes.values()].every((t) => t.viaGroup)).toBe(true);

    // Everyone at a.test who is active (carol is suspended); a remote wildcard names nobody.
    const all = await r.expand('all@a.test', member);
    expect(stored(all)).toEqual(['alice@a.test', 'bob@a.test', 'dan@a.test']);
    expect(all.remotes.size).toBe(0);
  });

  it('rewrites the recipient for members of a rewriting group, and keeps a copy for the group mailbox when asked', async () => {
    const { d } = directory();
    d.addMailbox('list@a.test');
    d.addGroup('list@a.test', ['bob@a.test'], { rewriteRecipient: true, keepCopy: true });
    const e = await new RecipientResolver(d).expand('list@a.test', outsider);
    const byAddress = new Map([...e.mailboxes.values()].map((t) => [t.address, t]));
    expect(byAddress.get('bob@a.test')?.rewriteTo).toBe('bob@a.test');
    expect(byAddress.get('list@a.test')?.rewriteTo).toBeNull();
    expect(stored(e)).toEqual(['bob@a.test', 'list@a.test']);
  });

  it('forwards with or without a copy, keeps the copy when the forward loops back or X-Loop names the mailbox', async () => {
    const { d, alice, bob } = directory();
    d.setDeliverySettings(alice.id, { forwardTo: ['bob@a.test', 'far@remote.test'], forwardKeepCopy: false });
    const r = new RecipientResolver(d);
    const e = await r.expand('alice@a.test', outsider);
    expect(stored(e)).toEqual(['bob@a.test']);
    expect(e.mailboxes.get(alice.id)?.store).toBe(false);
    expect([...e.remotes]).toEqual(['far@remote.test']);

    // bob forwards back to alice: the chain ends in alice, who keeps the message instead of it going nowhere.
    d.setDeliverySettings(bob.id, { forwardTo: ['alice@a.test'], forwardKeepCopy: false });
    const loop = await new RecipientResolver(d).expand('alice@a.test', outsider);
    expect(loop.mailboxes.get(alice.id)?.store).toBe(true);
    expect(loop.mailboxes.get(bob.id)?.store).toBe(false);

    const looped = await new RecipientResolver(d).expand('alice@a.test', { ...outsider, xLoop: new Set(['alice@a.test']) });
    expect(stored(looped)).toEqual(['alice@a.test']);
    expect(looped.remotes.size).toBe(0);
  });

  it('gives up on nesting deeper than the limit with 5.4.6', async () => {
    const { d } = directory();
    for (let i = 0; i <= MAX_EXPANSION_DEPTH + 1; i++) d.addAlias(`hop${i}@a.test`, [`hop${i + 1}@a.test`]);
    d.addAlias(`hop${MAX_EXPANSION_DEPTH + 2}@a.test`, ['alice@a.test']);
    const e = await new RecipientResolver(d).expand('hop0@a.test', outsider);
    expect(e.mailboxes.size).toBe(0);
    expect(e.failures.map((f) => f.status)).toEqual(['5.4.6']);
  });

  it('answers a prefetched batch without asking the directory again', async () => {
    const { d } = directory();
    d.addAlias('team@a.test', ['alice@a.test']);
    const r = new RecipientResolver(d);
    await r.prefetch(['alice@a.test', 'team@a.test', 'bob@a.test']);
    const before = d.calls;
    expect(stored(await r.expand('bob@a.test', outsider))).toEqual(['bob@a.test']);
    expect(stored(await r.expand('team@a.test', outsider))).toEqual(['alice@a.test']);
    expect(d.calls).toBe(before);
  });
});

describe('forwardingSenders and filterFolders on the memory directory', () => {
  it('rewrites a remote sender with SRS in the forwarder domain, keeps our own and the null sender', async () => {
    const { d } = directory();
    const srs = new Srs({ secrets: ['secret-one'] });
    const forwards = new Map([['far@remote.test', 'alice@a.test']]);
    const [rewritten] = await forwardingSenders(d, srs, 'someone@remote.test', forwards);
    expect(rewritten).toMatch(/^SRS0=.+@a\.test$/i);
    expect(await forwardingSenders(d, srs, 'bob@a.test', forwards)).toEqual([null]);
    expect(await forwardingSenders(d, srs, '', forwards)).toEqual([null]);
    expect(await forwardingSenders(d, undefined, 'someone@remote.test', forwards)).toEqual([null]);
  });

  it('files into the special-use folder where a mailbox has one', async () => {
    const { d, alice, bob } = directory();
    const junk = d.addSpecialUseFolder(alice.id, 'junk');
    const filed = await filterFolders(d, 'junk', [alice.id, bob.id]);
    expect([...filed]).toEqual([[alice.id, { id: junk }]]);
    expect((await filterFolders(d, null, [alice.id])).size).toBe(0);
  });
});
