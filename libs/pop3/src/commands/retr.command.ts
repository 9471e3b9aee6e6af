import { defineCommand } from '../command';
import type { MaildropMessage } from '../maildrop';

/** RFC 1939 §5: the whole message as stored, byte-stuffed. */
export const retrCommand = defineCommand({
  name: 'RETR',
  states: ['transaction'],
  args: ['msg'],
  async handle(session, [message]) {
    const m = message as MaildropMessage;
    // Opened before the +OK, so a message expunged meanwhile still gets a clean -ERR.
    const source = await session.messageContent(m);
    await session.writeMessage(`${m.size} octets`, source);
    m.retrieved = true;
  },
});
