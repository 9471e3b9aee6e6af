import { defineCommand, SELECTED } from '../command';
import type { SequenceSet } from '../parser/sequence-set';
import { bad } from '../imap-error';

/** EXPUNGE, and UID EXPUNGE (UIDPLUS) limited to a UID set. */
export const expungeCommand = defineCommand({
  name: 'EXPUNGE',
  uidVariant: true,
  states: SELECTED,
  args: ['seqset?'],
  async handle({ session, uid }, [set]) {
    const sel = session.requireWritable();
    if (uid && !set) throw bad('UID EXPUNGE needs a UID set');
    if (!uid && set) throw bad('EXPUNGE takes no arguments');
    const uids = set ? session.resolveSet(set as SequenceSet, true) : null;
    if (uids && uids.length === 0) return;
    const result = await session.store.expunge(sel.folder.id, uids ? uids.map((u) => ({ from: u, to: u })) : undefined);
    session.ownExpunge(result.uids, result.modseq);
    await session.sync(true);
    if (session.condstore && result.uids.length) return `[HIGHESTMODSEQ ${result.modseq}] Expunge completed`;
  },
});
