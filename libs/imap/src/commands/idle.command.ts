import { AUTHENTICATED, defineCommand } from '../command';
import { bad } from '../imap-error';
import type { Session } from '../session';

/** One sync at a time; a burst of notifications during one leads to one more, not one per notification. */
function pushOnNotification(session: Session, first: Promise<void>): () => Promise<void> {
  let chain = first;
  let scheduled = false;
  const push = async () => {
    scheduled = false;
    // Everything one sync tells goes out in one write.
    session.cork();
    try {
      await session.sync(true);
    } finally {
      session.uncork();
    }
  };
  session.idling = () => {
    if (scheduled) return;
    scheduled = true;
    chain = chain.catch(() => undefined).then(push).catch(() => undefined);
  };
  return () => chain;
}

/** RFC 2177: changes are pushed as they are notified until the client sends DONE. */
export const idleCommand = defineCommand({
  name: 'IDLE',
  states: AUTHENTICATED,
  args: [],
  async handle({ session }) {
    const first = session.sync(true);
    session.write('+ idling\r\n');
    session.uncork();
    const settled = pushOnNotification(session, first);
    try {
      const line = await session.reader.readLine(session.settings.maxLineBytes);
      await settled();
      if (!line.ok && !line.ended) session.restOfLinePending = true;
      if (!line.ok || line.line.toString('latin1').toUpperCase() !== 'DONE') throw bad('Expected DONE');
    } finally {
      session.idling = null;
      session.cork();
    }
    return 'Idle completed';
  },
});
