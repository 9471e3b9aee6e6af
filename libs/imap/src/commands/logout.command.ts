import { ANY_STATE, defineCommand } from '../command';

export const logoutCommand = defineCommand({
  name: 'LOGOUT',
  states: ANY_STATE,
  args: [],
  async handle({ session }) {
    session.untagged('BYE Logging out');
    session.logoutRequested = true;
  },
});
