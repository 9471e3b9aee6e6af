import { describe, expect, it } from 'vitest';
import { mayPost, PostingGroup, PostingPolicy, Sender } from './group-posting';

const group = (postingPolicy: PostingPolicy, over: Partial<PostingGroup> = {}): PostingGroup => ({
  address: 'team@a.test',
  postingPolicy,
  allowedSenders: [],
  members: [],
  ...over,
});
const sender = (address: string, over: Partial<Sender> = {}): Sender => ({ address, authenticated: false, isLocal: false, ...over });

describe('mayPost', () => {
  it('anyone: every sender, even the null sender', () => {
    expect(mayPost(group('anyone'), sender('x@remote.test'))).toBe(true);
    expect(mayPost(group('anyone'), sender(''))).toBe(true);
  });

  it('same_domain: only senders at the group domain, compared without case', () => {
    expect(mayPost(group('same_domain'), sender('bob@A.TEST'))).toBe(true);
    expect(mayPost(group('same_domain'), sender('bob@sub.a.test'))).toBe(false);
    expect(mayPost(group('same_domain'), sender('bob@b.test'))).toBe(false);
    expect(mayPost(group('same_domain'), sender(''))).toBe(false);
  });

  it('local: only local mailboxes', () => {
    expect(mayPost(group('local'), sender('bob@b.test', { isLocal: true }))).toBe(true);
    expect(mayPost(group('local'), sender('bob@a.test', { isLocal: false }))).toBe(false);
  });

  it('authenticated: only authenticated sessions', () => {
    expect(mayPost(group('authenticated'), sender('bob@b.test', { authenticated: true }))).toBe(true);
    expect(mayPost(group('authenticated'), sender('bob@a.test', { isLocal: true }))).toBe(false);
  });

  it('members: plain and wildcard member patterns', () => {
    const g = group('members', { members: ['ann@a.test', '*@b.test'] });
    expect(mayPost(g, sender('Ann@a.test'))).toBe(true);
    expect(mayPost(g, sender('anyone@b.test'))).toBe(true);
    expect(mayPost(g, sender('anyone@xb.test'))).toBe(false);
    expect(mayPost(g, sender('carl@a.test', { authenticated: true, isLocal: true }))).toBe(false);
    expect(mayPost(g, sender(''))).toBe(false);
  });

  it('listed: allowed senders, not members', () => {
    const g = group('listed', { members: ['ann@a.test'], allowedSenders: ['boss@c.test', '*@d.test'] });
    expect(mayPost(g, sender('boss@c.test'))).toBe(true);
    expect(mayPost(g, sender('x@d.test'))).toBe(true);
    expect(mayPost(g, sender('ann@a.test'))).toBe(false);
  });
});
