/**
 * StoreSearch and SORT over rows in memory: the memory store's answer, and the definition the PostgreSQL store's
 * statements must agree with (the same columns, the same comparisons).
 */
import { searchKeys } from '@dizi/domain/search-key';
import type { MailboxSearch, MailboxSort, NumberRange, SortCriterion, StoreSearch } from './ports/message-store';
import { dayOf, isIndexedHeaderField, type SearchFields } from './search-fields';

export interface SearchableRow {
  uid: number;
  modseq: number;
  flags: string[];
  size: number;
  internalDate: Date;
  fields: SearchFields;
}

function inRanges(n: number, ranges: NumberRange[]): boolean {
  for (const r of ranges) if (n >= r.from && n <= r.to) return true;
  return false;
}

export function matchesStoreSearch(row: SearchableRow, key: StoreSearch): boolean {
  switch (key.op) {
    case 'all': return true;
    case 'and': return key.keys.every((k) => matchesStoreSearch(row, k));
    case 'or': return matchesStoreSearch(row, key.a) || matchesStoreSearch(row, key.b);
    case 'not': return !matchesStoreSearch(row, key.key);
    case 'flag': {
      const lower = key.flag.toLowerCase();
      return row.flags.some((f) => f.toLowerCase() === lower) === key.set;
    }
    case 'uids': return inRanges(row.uid, key.ranges);
    case 'size': return key.larger ? row.size > key.n : row.size < key.n;
    case 'modseq': return row.modseq >= key.n;
    case 'date': {
      const day = key.field === 'internal' ? dayOf(row.internalDate) : (row.fields.sd ?? dayOf(row.internalDate));
      if (key.cmp === 'before') return day < key.day;
      if (key.cmp === 'on') return day === key.day;
      return day >= key.day;
    }
    case 'header': {
      if (!isIndexedHeaderField(key.field)) throw new TypeError(`HEADER ${key.field} is not answered by the store`);
      const text = row.fields.h[key.field];
      if (text === undefined) return false;
      return key.value === '' || text.includes(key.value);
    }
  }
}

/** A row's value for one sort key: numbers for times and sizes, upper-cased strings otherwise. */
export function sortValue(row: SearchableRow, key: SortCriterion['key']): string | number {
  switch (key) {
    case 'arrival': return row.internalDate.getTime();
    case 'date': return row.fields.dt ?? row.internalDate.getTime();
    case 'size': return row.size;
    case 'subject': return row.fields.s.subject;
    case 'from': return row.fields.s.from;
    case 'to': return row.fields.s.to;
    case 'cc': return row.fields.s.cc;
    case 'displayfrom': return row.fields.s.dfrom;
    case 'displayto': return row.fields.s.dto;
  }
}

/** Strings compare by code point (as PostgreSQL's "C" collation compares UTF-8), ties by UID. */
export function sortRows<T extends SearchableRow>(rows: T[], sort: SortCriterion[]): T[] {
  const keyed = rows.map((r) => ({ r, v: sort.map((c) => sortValue(r, c.key)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < sort.length; i++) {
      const cmp = compareValues(a.v[i], b.v[i]);
      if (cmp) return sort[i].reverse ? -cmp : cmp;
    }
    return a.r.uid - b.r.uid;
  });
  return keyed.map((k) => k.r);
}

function compareValues(x: string | number, y: string | number): number {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  const a = String(x);
  const b = String(y);
  if (a === b) return 0;
  // Code point order; plain < compares UTF-16 units and puts astral characters before U+E000–U+FFFF.
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done) return cb.done ? 0 : -1;
    if (cb.done) return 1;
    const d = ca.value.codePointAt(0)! - cb.value.codePointAt(0)!;
    if (d) return d;
  }
}

/** A message as a mailbox query reads it: its row, folder, thread, attachment names and full-text keys. */
export interface MailboxSearchableRow extends SearchableRow {
  id: string;
  folderId: string;
  threadId: string;
  attachmentCount: number;
  attachmentNames?: string[];
  keys: Set<number>;
}

/** MailboxSearch over a row in memory: the memory store's answer and the PostgreSQL store's definition. */
export function matchesMailboxSearch(row: MailboxSearchableRow, key: MailboxSearch): boolean {
  switch (key.op) {
    case 'all': return true;
    case 'and': return key.keys.every((k) => matchesMailboxSearch(row, k));
    case 'or': return key.keys.some((k) => matchesMailboxSearch(row, k));
    case 'not': return !matchesMailboxSearch(row, key.key);
    case 'flag': case 'size': case 'header': return matchesStoreSearch(row, key);
    case 'folders': return key.ids.includes(row.folderId);
    case 'received': return key.cmp === 'before' ? row.internalDate.getTime() < key.at.getTime() : row.internalDate.getTime() >= key.at.getTime();
    case 'attachment': return (row.attachmentCount > 0) === key.has;
    case 'attachmentName': return (row.attachmentNames ?? []).some((n) => n.toLowerCase().includes(key.value));
    case 'text': return searchKeys(key.tokens).every((k) => row.keys.has(k));
  }
}

/** Rows in a mailbox query's order: its keys, then the id in the first key's direction. */
export function sortMailboxRows<T extends MailboxSearchableRow>(rows: T[], sort: MailboxSort[]): T[] {
  const value = (r: T, c: MailboxSort): string | number => {
    switch (c.key) {
      case 'received': return r.internalDate.getTime();
      case 'size': return r.size;
      case 'from': return r.fields.s.dfrom;
      case 'to': return r.fields.s.dto;
      case 'subject': return r.fields.s.subject;
      case 'sent': return r.fields.dt ?? r.internalDate.getTime();
      case 'flag': return matchesStoreSearch(r, { op: 'flag', flag: c.flag ?? '', set: true }) ? 1 : 0;
    }
  };
  const keyed = rows.map((r) => ({ r, v: sort.map((c) => value(r, c)) }));
  const idReverse = sort[0]?.reverse ?? false;
  keyed.sort((a, b) => {
    for (let i = 0; i < sort.length; i++) {
      const cmp = compareValues(a.v[i], b.v[i]);
      if (cmp) return sort[i].reverse ? -cmp : cmp;
    }
    const d = Number(BigInt(a.r.id) - BigInt(b.r.id));
    return idReverse ? -d : d;
  });
  return keyed.map((k) => k.r);
}
