import { defineCommand } from '../command';
import type { MaildropMessage } from '../maildrop';

/** RFC 1939 §7: the header, the blank line and the first n lines of the body. */
export const topCommand = defineCommand({
  name: 'TOP',
  states: ['transaction'],
  args: ['msg', 'count'],
  async handle(session, [message, lines]) {
    const m = message as MaildropMessage;
    const source = await session.messageContent(m);
    await session.writeMessage('Top of message follows', source, lines as number);
  },
});
