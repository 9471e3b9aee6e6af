/** The in-memory mailbox search index against a plain reference implementation of the SQL it replaces. */
import { describe, expect, it } from 'vitest';
import { MailboxDirectoryIndex, type DirectoryFilter, type DirectoryRow } from '../src/modules/mailboxes/mailbox-directory-index';

const DOMAIN = 'example.test';

/** The SQL semantics: fragment in local part or lower(display name); with '@', in the address. */
function reference(rows: DirectoryRow[], f: DirectoryFilter, offset: number, limit: number) {
  const hits = rows.filter((r) => {
    if (f.status && r.status !== f.status) return false;
    if (f.role && r.role !== f.role) return false;
    if (f.initial && !r.localPart.startsWith(f.initial)) return false;
    if (f.q === undefined) return true;
    if (f.q.includes('@')) return `${r.localPart}@${DOMAIN}`.includes(f.q);
    return r.localPart.includes(f.q) || (r.displayName ?? '').toLowerCase().includes(f.q);
  });
  return { ids: hits.slice(offset, offset + limit).map((r) => r.id), total: hits.length };
}

function uuid(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

function world(n: number): DirectoryRow[] {
  const first = ['anna', 'bo', 'chen', 'li', 'ma', 'x', 'zoë'];
  const last = ['smith', 'wang', 'li', 'er', 'an'];
  const names = ['Anna Smith', '王小明', null, 'Li  Na', 'ÉMILE', 'a-b', ''];
  const rows = Array.from({ length: n }, (_, i) => ({
    id: uuid(i),
    localPart: `${first[i % first.length]}.${last[(i * 7) % last.length]}${i}`,
    displayName: names[(i * 3) % names.length],
    status: i % 5 === 0 ? ('suspended' as const) : ('active' as const),
    role: (['user', 'user', 'domain_admin', 'tenant_admin'] as const)[i % 4],
  }));
  return rows.sort((a, b) => (a.localPart < b.localPart ? -1 : 1));
}

describe('MailboxDirectoryIndex', () => {
  const rows = world(2_000);
  const index = new MailboxDirectoryIndex(DOMAIN, 1, rows);
  const fragments = ['a', 'an', 'li', 'smith', '.wang1', '王', '小明', 'émile', 'na', 'zzz', '1999', 'b', '@', '@ex', 'h@example.test', '1@example.testx', 'a@b@c', 'ma.an', ' '];

  it('finds what the SQL finds, in the same order, with the exact total', () => {
    for (const q of fragments) {
      for (const [offset, limit] of [[0, 50], [10, 7], [1990, 50]] as const) {
        expect(index.search({ q }, offset, limit), `q=${q} offset=${offset}`).toEqual(reference(rows, { q }, offset, limit));
      }
    }
  });

  it('combines the fragment with initial, status and role filters', () => {
    const filters: DirectoryFilter[] = [
      { initial: 'c' },
      { initial: 'z', q: 'an' },
      { status: 'suspended' },
      { role: 'tenant_admin', q: 'li' },
      { status: 'active', role: 'domain_admin', initial: 'a', q: '1' },
      { q: '@example', role: 'user' },
    ];
    for (const f of filters) expect(index.search(f, 3, 20), JSON.stringify(f)).toEqual(reference(rows, f, 3, 20));
  });

  it('never matches across an entry or field boundary', () => {
    const small = new MailboxDirectoryIndex(DOMAIN, 1, [
      { id: uuid(1), localPart: 'ab', displayName: 'cd', status: 'active', role: 'user' },
      { id: uuid(2), localPart: 'ef', displayName: null, status: 'active', role: 'user' },
    ]);
    expect(small.search({ q: 'bc' }, 0, 10).total).toBe(0);
    expect(small.search({ q: 'de' }, 0, 10).total).toBe(0);
    expect(small.search({ q: '\u0001' }, 0, 10).total).toBe(0);
    expect(small.search({ q: 'b' }, 0, 10)).toEqual({ ids: [uuid(1)], total: 1 });
  });

  it('serves an empty domain', () => {
    expect(new MailboxDirectoryIndex(DOMAIN, 0, []).search({ q: 'a' }, 0, 50)).toEqual({ ids: [], total: 0 });
  });
});
