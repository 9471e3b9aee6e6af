import { defineCommand } from '../command';
import type { MaildropMessage } from '../maildrop';

/** RFC 1939 §7: `<uidvalidity>.<uid>` of the INBOX message, the same in every session. */
export const uidlCommand = defineCommand({
  name: 'UIDL',
  states: ['transaction'],
  args: ['msg?'],
  async handle(session, [message]) {
    const maildrop = session.maildrop!;
    if (message) {
      const m = message as MaildropMessage;
      return `${m.number} ${maildrop.uniqueId(m)}`;
    }
    session.writeLines('Unique-ID listing follows', maildrop.live().map((m) => `${m.number} ${maildrop.uniqueId(m)}`));
  },
});
