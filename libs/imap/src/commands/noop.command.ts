import { ANY_STATE, defineCommand } from '../command';

export const noopCommand = defineCommand({
  name: 'NOOP',
  states: ANY_STATE,
  args: [],
  async handle({ session }) {
    await session.sync(true, true);
  },
});
