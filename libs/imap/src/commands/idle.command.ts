import { AUTHENTICATED, defineCommand } from '../command';
import { bad } from '../imap-error';

/** RFC 2177: changes are pushed as they are notified until the client sends DONE. */
export const idleCommand = defineCommand({
  name: 'IDLE',
  states: AUTHENTICATED,
  args: [],
  async handle({ session }) {
    let chain = session.sync(true);
    session.write('+ idling\r\n');
    session.uncork();
    session.idling = () => {
      chain = chain.then(() => session.sync(true)).catch(() => undefined);
    };
    try {
      const line = await session.reader.readLine(session.settings.maxLineBytes);
      await chain;
      if (!line.ok || line.line.toString('latin1').toUpperCase() !== 'DONE') throw bad('Expected DONE');
    } finally {
      session.idling = null;
      session.cork();
    }
    return 'Idle completed';
  },
});
