import { AUTHENTICATED, defineCommand } from '../command';

export const subscribeCommand = defineCommand({
  name: 'SUBSCRIBE',
  states: AUTHENTICATED,
  args: ['mailbox'],
  async handle({ session }, [name]) {
    await session.store.setSubscribed(session.mailboxId!, { name: name as string }, true);
  },
});
