import { defineCommand } from '../command';

/** RFC 1939 §5: unmarks every message marked deleted. */
export const rsetCommand = defineCommand({
  name: 'RSET',
  states: ['transaction'],
  args: [],
  async handle(session) {
    const maildrop = session.maildrop!;
    for (const m of maildrop.messages) m.deleted = false;
    const { count, octets } = maildrop.totals();
    return `Maildrop has ${count} messages (${octets} octets)`;
  },
});
