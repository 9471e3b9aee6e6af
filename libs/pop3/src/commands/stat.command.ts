import { defineCommand } from '../command';

/** RFC 1939 §5: count and octets of the messages not marked deleted. */
export const statCommand = defineCommand({
  name: 'STAT',
  states: ['transaction'],
  args: [],
  async handle(session) {
    const { count, octets } = session.maildrop!.totals();
    return `${count} ${octets}`;
  },
});
