import { defineCommand, SELECTED } from '../command';
import { bad, no } from '../imap-error';
import type { ImapArg } from '../parser/command-parser';
import { parseSearchCommand, parseSearchKeys, usesModseq } from '../parser/search-query';
import { formatSequenceSet } from '../parser/sequence-set';
import { searchHits } from '../search-evaluator';
import { quoteString } from '../wire';

export function checkCharset(charset: string | null): void {
  if (charset !== null && !/^(utf-8|us-ascii)$/i.test(charset)) throw no(`Unsupported charset ${charset}`, 'BADCHARSET (UTF-8 US-ASCII)');
}

export const searchCommand = defineCommand({
  name: 'SEARCH',
  uidVariant: true,
  states: SELECTED,
  args: ['rest'],
  forbidsExpunge: (ctx) => !ctx.uid,
  async handle({ session, uid, tag }, [rest]) {
    const sel = session.requireSelected();
    const { returnOpts, charset, rest: keys } = parseSearchCommand(rest as ImapArg[], true);
    checkCharset(charset);
    if (keys.length === 0) throw bad('Missing search keys');
    const key = parseSearchKeys(keys);
    const modseq = usesModseq(key);
    if (modseq) await session.enableCondstore();
    const found = await searchHits(session, key);
    const numbers = found.map((r) => (uid ? r.uid : session.seqOf(r.uid)));
    const highest = found.reduce((m, r) => Math.max(m, r.modseq), 0);
    const modseqSuffix = modseq && found.length ? ` (MODSEQ ${highest})` : '';
    if (!returnOpts) {
      session.untagged(`SEARCH${numbers.length ? ' ' + numbers.join(' ') : ''}${modseqSuffix}`);
      return;
    }
    if (returnOpts.save) {
      const onlySave = !returnOpts.min && !returnOpts.max && !returnOpts.all && !returnOpts.count;
      let saved = found.map((r) => r.uid);
      if (!onlySave && !returnOpts.all && !returnOpts.count && found.length) {
        saved = [];
        if (returnOpts.min) saved.push(found[0].uid);
        if (returnOpts.max) saved.push(found[found.length - 1].uid);
      }
      sel.savedResult = [...new Set(saved)].sort((a, b) => a - b);
      if (onlySave) return;
    }
    const parts = [`(TAG ${quoteString(tag)})`];
    if (uid) parts.push('UID');
    if (returnOpts.min && numbers.length) parts.push(`MIN ${Math.min(...numbers)}`);
    if (returnOpts.max && numbers.length) parts.push(`MAX ${Math.max(...numbers)}`);
    if (returnOpts.all && numbers.length) parts.push(`ALL ${formatSequenceSet(numbers)}`);
    if (returnOpts.count) parts.push(`COUNT ${numbers.length}`);
    if (modseq && found.length) {
      // RFC 7162 §3.1.5: MODSEQ covers the messages returned; MIN and MAX alone return one or two of them.
      const returned = returnOpts.all || returnOpts.count
        ? found
        : [returnOpts.min ? found[0] : null, returnOpts.max ? found[found.length - 1] : null].filter((r) => r !== null);
      parts.push(`MODSEQ ${returned.reduce((m, r) => Math.max(m, r.modseq), 0)}`);
    }
    session.untagged(`ESEARCH ${parts.join(' ')}`);
  },
});
