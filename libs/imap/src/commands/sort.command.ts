// SORT (RFC 5256, with SORT=DISPLAY from RFC 5957), ordered by the store from the sort keys kept with each message.
import type { SortCriterion, SortKey } from '@dizi/mail-store/ports/message-store';
import { defineCommand, SELECTED } from '../command';
import { bad } from '../imap-error';
import { argString, type ImapArg } from '../parser/command-parser';
import { parseSearchKeys } from '../parser/search-query';
import { searchHits } from '../search-evaluator';
import { checkCharset } from './search.command';

const KEYS: Record<string, SortKey> = {
  ARRIVAL: 'arrival', CC: 'cc', DATE: 'date', FROM: 'from', SIZE: 'size', SUBJECT: 'subject', TO: 'to',
  DISPLAYFROM: 'displayfrom', DISPLAYTO: 'displayto',
};

export const sortCommand = defineCommand({
  name: 'SORT',
  uidVariant: true,
  states: SELECTED,
  args: ['list', 'astring', 'rest'],
  async handle({ session, uid }, [criteria, charset, rest]) {
    checkCharset(charset as string);
    const order: SortCriterion[] = [];
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
    // Ties go by UID, which is sequence order (RFC 5256 §3).
    const found = await searchHits(session, parseSearchKeys(rest as ImapArg[]), order);
    const numbers = found.map((h) => (uid ? h.uid : session.seqOf(h.uid)));
    session.untagged(`SORT${numbers.length ? ' ' + numbers.join(' ') : ''}`);
  },
});
