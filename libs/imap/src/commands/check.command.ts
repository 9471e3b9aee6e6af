import { defineCommand, SELECTED } from '../command';

/** IMAP4rev1 only; every write is already durable, so it is a NOOP. */
export const checkCommand = defineCommand({
  name: 'CHECK',
  states: SELECTED,
  args: [],
  async handle({ session }) {
    await session.sync(true, true);
  },
});
