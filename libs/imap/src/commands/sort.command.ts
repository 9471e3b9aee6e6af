// SORT (RFC 5256, with SORT=DISPLAY from RFC 5957), keys from the stored summary.
import type { MessageRecord } from '@dizi/mail-store/ports/message-store';
import { baseSubject } from '@dizi/mime/base-subject';
import { decodeHeaderText } from '@dizi/mime/mime-header';
import { defineCommand, SELECTED } from '../command';
import { bad } from '../imap-error';
import { summaryOf } from '../message-access';
import { argString, type ImapArg } from '../parser/command-parser';
import { parseSearchKeys } from '../parser/search-query';
import { evaluateSearch } from '../search-evaluator';
import { checkCharset } from './search.command';

type SortValue = string | number;

export function sentTime(r: MessageRecord): number {
  const s = summaryOf(r);
  const d = s?.date ? new Date(s.date as unknown as string) : null;
  return d && !Number.isNaN(d.getTime()) ? d.getTime() : r.internalDate.getTime();
}

// RFC 5256 compares with i;unicode-casemap / i;ascii-casemap, which fold to upper case: "[" and "_" sort after letters.
export function subjectOf(r: MessageRecord): string {
  const s = summaryOf(r);
  return (s?.baseSubject ?? baseSubject(s?.subject ?? '')).toUpperCase();
}

function firstAddress(r: MessageRecord, field: 'from' | 'to' | 'cc'): string {
  // The first address is a group's name when the field starts with a group (as Dovecot sorts it).
  return (summaryOf(r)?.envelope[field]?.[0]?.mailbox ?? '').toUpperCase();
}

function display(r: MessageRecord, field: 'from' | 'to'): string {
  const list = summaryOf(r)?.envelope[field];
  const a = list?.[0];
  if (!a) return '';
  if (a.name) return decodeHeaderText(a.name).toUpperCase();
  return `${a.mailbox ?? ''}@${a.host ?? ''}`.toUpperCase();
}

const KEYS: Record<string, (r: MessageRecord) => SortValue> = {
  ARRIVAL: (r) => r.internalDate.getTime(),
  CC: (r) => firstAddress(r, 'cc'),
  DATE: sentTime,
  FROM: (r) => firstAddress(r, 'from'),
  SIZE: (r) => r.size,
  SUBJECT: subjectOf,
  TO: (r) => firstAddress(r, 'to'),
  DISPLAYFROM: (r) => display(r, 'from'),
  DISPLAYTO: (r) => display(r, 'to'),
};

export const sortCommand = defineCommand({
  name: 'SORT',
  uidVariant: true,
  states: SELECTED,
  args: ['list', 'astring', 'rest'],
  async handle({ session, uid }, [criteria, charset, rest]) {
    checkCharset(charset as string);
    const order: Array<{ key: (r: MessageRecord) => SortValue; reverse: boolean }> = [];
    let reverse = false;
    for (const c of criteria as ImapArg[]) {
      const name = argString(c)?.toUpperCase() ?? '';
      if (name === 'REVERSE') {
        reverse = true;
        continue;
      }
      const key = KEYS[name];
      if (!key) throw bad(`Unknown sort key ${name}`);
      order.push({ key, reverse });
      reverse = false;
    }
    if (order.length === 0 || reverse) throw bad('Invalid sort criteria');
    const found = await evaluateSearch(session, parseSearchKeys(rest as ImapArg[]), true);
    const keyed = found.map((r) => ({ r, seq: session.seqOf(r.uid), values: order.map((o) => o.key(r)) }));
    keyed.sort((a, b) => {
      for (let i = 0; i < order.length; i++) {
        const x = a.values[i];
        const y = b.values[i];
        const cmp = x < y ? -1 : x > y ? 1 : 0;
        if (cmp) return order[i].reverse ? -cmp : cmp;
      }
      return a.seq - b.seq;
    });
    const numbers = keyed.map((k) => (uid ? k.r.uid : k.seq));
    session.untagged(`SORT${numbers.length ? ' ' + numbers.join(' ') : ''}`);
  },
});
