import { defineCommand } from '../command';
import type { MaildropMessage } from '../maildrop';

/** RFC 1939 §5: one message's size, or all of them as a multi-line response. */
export const listCommand = defineCommand({
  name: 'LIST',
  states: ['transaction'],
  args: ['msg?'],
  async handle(session, [message]) {
    if (message) {
      const m = message as MaildropMessage;
      return `${m.number} ${m.size}`;
    }
    const maildrop = session.maildrop!;
    const { count, octets } = maildrop.totals();
    session.writeLines(`${count} messages (${octets} octets)`, maildrop.live().map((m) => `${m.number} ${m.size}`));
  },
});
