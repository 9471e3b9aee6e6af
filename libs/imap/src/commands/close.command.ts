import { defineCommand, SELECTED } from '../command';

/** Expunges silently (no EXPUNGE responses) unless read-only, then leaves the selected state. */
export const closeCommand = defineCommand({
  name: 'CLOSE',
  states: SELECTED,
  args: [],
  async handle({ session }) {
    const sel = session.requireSelected();
    session.unselect();
    if (!sel.readOnly) await session.store.expunge(sel.folder.id);
  },
});
