// THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §2).
import type { MessageRecord } from '@dizi/mail-store/ports/message-store';
import { baseSubject } from '@dizi/mime/base-subject';
import { defineCommand, SELECTED } from '../command';
import { bad } from '../imap-error';
import type { ImapArg } from '../parser/command-parser';
import { parseSearchKeys } from '../parser/search-query';
import { searchHits } from '../search-evaluator';
import { checkCharset } from './search.command';

// The keys threading reads are the message's kept sort fields (listed without summaries).
function sentTime(r: MessageRecord): number {
  const d = r.sortFields?.sentDate ? new Date(r.sortFields.sentDate) : null;
  return d && !Number.isNaN(d.getTime()) ? d.getTime() : r.internalDate.getTime();
}

// RFC 5256 compares with i;unicode-casemap / i;ascii-casemap, which fold to upper case.
function subjectOf(r: MessageRecord): string {
  const f = r.sortFields;
  return (f?.baseSubject ?? baseSubject(f?.subject ?? '')).toUpperCase();
}


interface Node {
  id: string;
  record: MessageRecord | null;
  parent: Node | null;
  children: Node[];
}

function format(nodes: Node[], num: (r: MessageRecord) => number): string {
  const one = (n: Node): string => {
    // A chain of single children prints flat: (a b c); siblings print as sub-lists.
    const parts: string[] = [];
    let cur: Node | null = n;
    while (cur) {
      if (cur.record) parts.push(String(num(cur.record)));
      if (cur.children.length === 1) cur = cur.children[0];
      else {
        if (cur.children.length > 1) parts.push(cur.children.map((c) => `(${one(c)})`).join(''));
        cur = null;
      }
    }
    return parts.join(' ').replace(/ \(/g, ' (');
  };
  return nodes.map((n) => `(${one(n)})`).join('');
}

/** A node's date: its message's, or a dummy's earliest child's; kept per node while one command sorts (dummies recurse). */
function datesOf(): (n: Node) => number {
  const memo = new Map<Node, number>();
  const dateOf = (n: Node): number => {
    if (n.record) return sentTime(n.record);
    let d = memo.get(n);
    if (d === undefined) {
      d = n.children.length ? Infinity : 0;
      for (const c of n.children) d = Math.min(d, dateOf(c));
      memo.set(n, d);
    }
    return d;
  };
  return dateOf;
}

function orderedSubject(found: MessageRecord[]): Node[] {
  const groups = new Map<string, MessageRecord[]>();
  for (const r of found) {
    const s = subjectOf(r);
    const list = groups.get(s);
    if (list) list.push(r);
    else groups.set(s, [r]);
  }
  const threads: Node[] = [];
  for (const list of groups.values()) {
    list.sort((a, b) => sentTime(a) - sentTime(b) || a.uid - b.uid);
    const root: Node = { id: '', record: list[0], parent: null, children: [] };
    root.children = list.slice(1).map((r) => ({ id: '', record: r, parent: root, children: [] }));
    threads.push(root);
  }
  return threads.sort((a, b) => sentTime(a.record!) - sentTime(b.record!) || a.record!.uid - b.record!.uid);
}

function references(found: MessageRecord[]): Node[] {
  const table = new Map<string, Node>();
  const get = (id: string) => {
    let n = table.get(id);
    if (!n) table.set(id, (n = { id, record: null, parent: null, children: [] }));
    return n;
  };
  const isAncestor = (a: Node, b: Node) => {
    for (let p: Node | null = b; p; p = p.parent) if (p === a) return true;
    return false;
  };
  const link = (parent: Node, child: Node) => {
    if (child.parent || isAncestor(child, parent)) return;
    child.parent = parent;
    parent.children.push(child);
  };
  let anon = 0;
  for (const r of found) {
    const s = r.sortFields;
    let id = s?.messageId ?? null;
    if (!id || (table.get(id)?.record)) id = `<anon-${anon++}>`;
    const node = get(id);
    node.record = r;
    const refs = [...(s?.references ?? [])];
    if (s?.inReplyTo && !refs.includes(s.inReplyTo)) refs.push(s.inReplyTo);
    let prev: Node | null = null;
    for (const ref of refs) {
      const n = get(ref);
      if (prev && !n.parent) link(prev, n);
      prev = n;
    }
    if (prev && prev !== node) {
      if (node.parent) {
        node.parent.children = node.parent.children.filter((c) => c !== node);
        node.parent = null;
      }
      link(prev, node);
    }
  }
  const roots = [...table.values()].filter((n) => !n.parent);
  // Prune dummies: a dummy without children goes; one with children is replaced by them when at the root and single.
  const prune = (list: Node[], atRoot: boolean): Node[] => {
    const out: Node[] = [];
    for (const n of list) {
      n.children = prune(n.children, false);
      if (!n.record) {
        if (n.children.length === 0) continue;
        if (!atRoot || n.children.length === 1) {
          for (const c of n.children) c.parent = n.parent;
          out.push(...n.children);
          continue;
        }
      }
      out.push(n);
    }
    return out;
  };
  let threads = prune(roots, true);
  // Dummies' dates are read after the tree stops changing below them: roots are grouped first with dates of their
  // own subtrees, which grouping does not change; the memo is made again for the final sorts.
  let dateOf = datesOf();
  // Group root threads by base subject.
  const bySubject = new Map<string, Node>();
  const merged: Node[] = [];
  const placeOf = new Map<Node, number>();
  for (const t of threads.sort((a, b) => dateOf(a) - dateOf(b))) {
    const r = t.record ?? t.children[0]?.record;
    const subject = r ? subjectOf(r) : '';
    const isReply = r ? /^(re|fwd?)\s*:/i.test((r.sortFields?.subject ?? '').trim()) : false;
    const other = subject ? bySubject.get(subject) : undefined;
    if (other && subject) {
      if (other.record && isReply) link(other, t);
      else if (!other.record) link(other, t);
      else {
        const dummy: Node = { id: '', record: null, parent: null, children: [] };
        const at = placeOf.get(other)!;
        merged[at] = dummy;
        placeOf.set(dummy, at);
        other.parent = null;
        link(dummy, other);
        link(dummy, t);
        bySubject.set(subject, dummy);
      }
      continue;
    }
    if (subject) bySubject.set(subject, t);
    placeOf.set(t, merged.length);
    merged.push(t);
  }
  threads = merged;
  dateOf = datesOf();
  const sortTree = (n: Node) => {
    n.children.sort((a, b) => dateOf(a) - dateOf(b));
    n.children.forEach(sortTree);
  };
  threads.forEach(sortTree);
  return threads.sort((a, b) => dateOf(a) - dateOf(b));
}

export const threadCommand = defineCommand({
  name: 'THREAD',
  uidVariant: true,
  states: SELECTED,
  args: ['atom', 'astring', 'rest'],
  async handle({ session, uid }, [algorithm, charset, rest]) {
    checkCharset(charset as string);
    const name = (algorithm as string).toUpperCase();
    if (name !== 'ORDEREDSUBJECT' && name !== 'REFERENCES') throw bad(`Unknown threading algorithm ${name}`);
    // One statement gives the matches with their threading keys; the algorithm reads them as records' sort fields.
    const hits = await searchHits(session, parseSearchKeys(rest as ImapArg[]), undefined, true);
    const inView: MessageRecord[] = hits.map((h) => ({
      id: '', uid: h.uid, modseq: h.modseq, flags: [], size: 0, internalDate: new Date(h.thread!.sentTime), blobHash: '',
      sortFields: {
        messageId: h.thread!.messageId, inReplyTo: h.thread!.inReplyTo, references: h.thread!.references,
        subject: h.thread!.subject, baseSubject: h.thread!.baseSubject, sentDate: null,
      },
    }));
    const threads = name === 'ORDEREDSUBJECT' ? orderedSubject(inView) : references(inView);
    const num = (r: MessageRecord) => (uid ? r.uid : session.seqOf(r.uid));
    session.untagged(`THREAD ${format(threads, num)}`.trimEnd());
  },
});
