import { defineCommand, SELECTED } from '../command';
import { formatOrderedSet, type SequenceSet } from '../parser/sequence-set';
import { toRanges } from './fetch.command';
import { targetFolder } from './copy.command';

/** RFC 6851: COPYUID goes untagged, before the EXPUNGE responses. */
export const moveCommand = defineCommand({
  name: 'MOVE',
  uidVariant: true,
  states: SELECTED,
  args: ['seqset', 'mailbox'],
  async handle({ session, uid }, [set, name]) {
    const sel = session.requireWritable();
    const target = await targetFolder(session, name as string);
    const uids = session.resolveSet(set as SequenceSet, uid).filter((u) => !sel.pendingExpunge.has(u));
    if (uids.length === 0) return;
    const ranges = toRanges(uids);
    let map: Array<{ sourceUid: number; targetUid: number }>;
    let uidValidity: number;
    if (target.id === sel.folder.id) {
      // Moving into the same folder gives new UIDs: copy, then expunge the originals.
      const copied = await session.store.copy(sel.folder.id, ranges, target.id, { enforceQuota: false });
      await session.store.setFlags(sel.folder.id, ranges, 'add', ['\\Deleted']);
      await session.store.expunge(sel.folder.id, ranges);
      ({ map, uidValidity } = copied);
      for (const m of map) sel.pendingExpunge.add(m.sourceUid);
      // The copies are new messages here: the sync asks the store.
      sel.dirty = true;
    } else {
      const moved = await session.store.move(sel.folder.id, ranges, target.id);
      ({ map, uidValidity } = moved);
      session.ownExpunge(map.map((m) => m.sourceUid), moved.sourceModseq);
    }
    if (map.length) session.untagged(`OK [COPYUID ${uidValidity} ${formatOrderedSet(map.map((m) => m.sourceUid))} ${formatOrderedSet(map.map((m) => m.targetUid))}] Moved`);
    await session.sync(true);
  },
});
