import { defineCommand } from '../command';

export const noopCommand = defineCommand({
  name: 'NOOP',
  states: ['transaction'],
  args: [],
  async handle() {
    return 'Nothing happened';
  },
});
