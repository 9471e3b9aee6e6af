import { ANY_STATE, defineCommand } from '../command';
import { capabilities } from '../capabilities';

export const capabilityCommand = defineCommand({
  name: 'CAPABILITY',
  states: ANY_STATE,
  args: [],
  async handle({ session }) {
    session.untagged(`CAPABILITY ${capabilities(session).join(' ')}`);
  },
});
