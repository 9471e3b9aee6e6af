import { defineCommand } from '../command';
import type { MaildropMessage } from '../maildrop';

/** RFC 1939 §5: only a mark; the message goes at QUIT (UPDATE state), and RSET or a dropped connection keep it. */
export const deleCommand = defineCommand({
  name: 'DELE',
  states: ['transaction'],
  args: ['msg'],
  async handle(_session, [message]) {
    const m = message as MaildropMessage;
    m.deleted = true;
    return `Message ${m.number} deleted`;
  },
});
