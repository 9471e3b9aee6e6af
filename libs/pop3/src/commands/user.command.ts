import { defineCommand } from '../command';

/** RFC 1939 §7: the name is only remembered; PASS checks both together so USER tells nothing about accounts. */
export const userCommand = defineCommand({
  name: 'USER',
  states: ['authorization'],
  args: ['text'],
  carriesCredentials: true,
  async handle(session, [name]) {
    session.pendingUser = name as string;
    return 'Send your password';
  },
});
