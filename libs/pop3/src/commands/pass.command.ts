import { defineCommand } from '../command';
import { refuse } from '../pop3-error';

/** RFC 1939 §7: the whole rest of the line is the password, spaces included. */
export const passCommand = defineCommand({
  name: 'PASS',
  states: ['authorization'],
  args: ['text'],
  carriesCredentials: true,
  async handle(session, [password]) {
    const username = session.pendingUser;
    session.pendingUser = null;
    if (username === null) throw refuse('Send USER first');
    await session.login(username, password as string);
    const { count, octets } = session.maildrop!.totals();
    return `Logged in, ${count} messages (${octets} octets)`;
  },
});
