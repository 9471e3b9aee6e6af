import { defineCommand, SELECTED } from '../command';

export const unselectCommand = defineCommand({
  name: 'UNSELECT',
  states: SELECTED,
  args: [],
  async handle({ session }) {
    session.unselect();
  },
});
