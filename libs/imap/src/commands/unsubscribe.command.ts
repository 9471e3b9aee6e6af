import { AUTHENTICATED, defineCommand } from '../command';

export const unsubscribeCommand = defineCommand({
  name: 'UNSUBSCRIBE',
  states: AUTHENTICATED,
  args: ['mailbox'],
  async handle({ session }, [name]) {
    await session.store.setSubscribed(session.mailboxId!, { name: name as string }, false);
  },
});
