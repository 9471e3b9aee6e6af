import type { MailboxStatus } from '@dizi/db/entities/mailbox.entity';
import { MAILBOX_ROLES, type MailboxRole } from '@dizi/domain/roles';

/** What the index needs of a mailbox: the searchable columns only (usage and settings are read fresh per page). */
export interface DirectoryRow {
  id: string;
  localPart: string;
  displayName: string | null;
  status: MailboxStatus;
  role: MailboxRole;
}

export interface DirectoryFilter {
  /** Lower-case fragment of the local part or display name, or of the address when it contains `@`. */
  q?: string;
  /** Lower-case first character of the local part. */
  initial?: string;
  status?: MailboxStatus;
  role?: MailboxRole;
}

export interface DirectoryPage {
  ids: string[];
  total: number;
}

const STATUSES: readonly MailboxStatus[] = ['active', 'suspended'];
const ROLES: readonly MailboxRole[] = MAILBOX_ROLES;
const UUID_LENGTH = 36;

/** Posting-list key of two adjacent UTF-16 code units. */
const bigram = (c1: number, c2: number) => c1 * 0x10000 + c2;

/**
 * One domain's mailboxes in local-part order with a bigram index for substring search: for every pair of adjacent
 * characters of a local part or (lower-case) display name, the ascending list of the entries holding it. A fragment
 * of two characters is answered by its list alone (count and page without touching an entry); a longer one checks
 * only the entries on the shortest list among its pairs; a single character is looked for in every entry (a few
 * milliseconds for 100,000 mailboxes: single-character lists would make every rebuild a third slower).
 * Immutable: a change in the domain builds a new one (see MailboxDirectoryCache).
 */
export class MailboxDirectoryIndex {
  readonly size: number;
  private readonly localParts: string[];
  private readonly displayNames: string[];
  private readonly ids: string;
  private readonly statuses: Uint8Array;
  private readonly roles: Uint8Array;
  private readonly postings = new Map<number, Int32Array>();

  /** `rows` must already be in the order pages are served in (the database's `ORDER BY local_part`). */
  constructor(
    readonly domainName: string,
    readonly version: number,
    rows: readonly DirectoryRow[],
  ) {
    this.size = rows.length;
    this.localParts = rows.map((r) => r.localPart);
    this.displayNames = rows.map((r) => (r.displayName ?? '').toLowerCase());
    this.ids = rows.map((r) => r.id).join('');
    this.statuses = Uint8Array.from(rows, (r) => STATUSES.indexOf(r.status));
    this.roles = Uint8Array.from(rows, (r) => ROLES.indexOf(r.role));
    const lists = new Map<number, number[]>();
    const add = (key: number, entry: number) => {
      const list = lists.get(key);
      if (!list) lists.set(key, [entry]);
      else if (list[list.length - 1] !== entry) list.push(entry);
    };
    for (let i = 0; i < this.size; i++) {
      for (const field of [this.localParts[i], this.displayNames[i]]) {
        for (let k = 0; k + 1 < field.length; k++) add(bigram(field.charCodeAt(k), field.charCodeAt(k + 1)), i);
      }
    }
    for (const [key, list] of lists) this.postings.set(key, Int32Array.from(list));
  }

  /** Exact count of the matches and the ids of the requested page, in local-part order. */
  search(filter: DirectoryFilter, offset: number, limit: number): DirectoryPage {
    const q = filter.q;
    const filtered = filter.status !== undefined || filter.role !== undefined || filter.initial !== undefined;
    if (q !== undefined && q.includes('@')) return this.collect(this.addressMatcher(q), filter, offset, limit);
    if (q !== undefined && q.length === 1) {
      return this.collect((i) => this.localParts[i].includes(q) || this.displayNames[i].includes(q), filter, offset, limit);
    }
    if (q === undefined || q.length === 2) {
      const list = q === undefined ? null : (this.postings.get(bigram(q.charCodeAt(0), q.charCodeAt(1))) ?? new Int32Array(0));
      if (!filtered) {
        // The list is the answer: no entry needs looking at.
        const total = list ? list.length : this.size;
        const ids: string[] = [];
        for (let n = offset; n < Math.min(total, offset + limit); n++) ids.push(this.id(list ? list[n] : n));
        return { ids, total };
      }
      return list ? this.collectFrom(list, () => true, filter, offset, limit) : this.collect(() => true, filter, offset, limit);
    }
    // Candidates: the entries on the shortest list among the fragment's pairs; then the real substring test.
    let shortest: Int32Array | undefined;
    for (let k = 0; k + 1 < q.length; k++) {
      const list = this.postings.get(bigram(q.charCodeAt(k), q.charCodeAt(k + 1)));
      if (!list) return { ids: [], total: 0 };
      if (!shortest || list.length < shortest.length) shortest = list;
    }
    return this.collectFrom(shortest!, (i) => this.localParts[i].includes(q) || this.displayNames[i].includes(q), filter, offset, limit);
  }

  /** Address fragments (`tail@dom`): the local part ends with `tail` and the domain name starts with `dom`. */
  private addressMatcher(q: string): (i: number) => boolean {
    const at = q.indexOf('@');
    // Local parts and domain names hold no '@'.
    if (q.indexOf('@', at + 1) >= 0 || !this.domainName.startsWith(q.slice(at + 1))) return () => false;
    const tail = q.slice(0, at);
    return (i) => this.localParts[i].endsWith(tail);
  }

  private collect(matches: (i: number) => boolean, filter: DirectoryFilter, offset: number, limit: number): DirectoryPage {
    const ids: string[] = [];
    let total = 0;
    for (let i = 0; i < this.size; i++) {
      if (!matches(i) || !this.passes(i, filter)) continue;
      if (total >= offset && ids.length < limit) ids.push(this.id(i));
      total++;
    }
    return { ids, total };
  }

  private collectFrom(list: Int32Array, matches: (i: number) => boolean, filter: DirectoryFilter, offset: number, limit: number): DirectoryPage {
    const ids: string[] = [];
    let total = 0;
    for (let n = 0; n < list.length; n++) {
      const i = list[n];
      if (!matches(i) || !this.passes(i, filter)) continue;
      if (total >= offset && ids.length < limit) ids.push(this.id(i));
      total++;
    }
    return { ids, total };
  }

  private passes(i: number, filter: DirectoryFilter): boolean {
    if (filter.status !== undefined && STATUSES[this.statuses[i]] !== filter.status) return false;
    if (filter.role !== undefined && ROLES[this.roles[i]] !== filter.role) return false;
    if (filter.initial !== undefined && !this.localParts[i].startsWith(filter.initial)) return false;
    return true;
  }

  private id(i: number): string {
    return this.ids.slice(i * UUID_LENGTH, (i + 1) * UUID_LENGTH);
  }
}
