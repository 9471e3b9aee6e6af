import { defineCommand } from '../command';
import { refuse, toPop3Error } from '../pop3-error';

/** RFC 1939 §6: from TRANSACTION, enters UPDATE and removes the messages marked deleted; the connection closes either way. */
export const quitCommand = defineCommand({
  name: 'QUIT',
  states: ['authorization', 'transaction'],
  args: [],
  async handle(session) {
    session.quitRequested = true;
    const name = session.settings.serverName;
    if (session.state === 'authorization') return `${name} signing off`;
    try {
      const { left } = await session.update();
      return `${name} signing off (${left} messages left)`;
    } catch (err) {
      const mapped = toPop3Error(err);
      if (!mapped) throw err;
      throw refuse(`Some deleted messages were not removed: ${mapped.text}`, mapped.code ?? 'SYS/TEMP');
    }
  },
});
