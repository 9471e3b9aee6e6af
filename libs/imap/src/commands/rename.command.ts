import { AUTHENTICATED, defineCommand } from '../command';

export const renameCommand = defineCommand({
  name: 'RENAME',
  states: AUTHENTICATED,
  args: ['mailbox', 'mailbox'],
  async handle({ session }, [from, to]) {
    session.checkNewFolderName(to as string);
    await session.store.renameFolder(session.mailboxId!, { name: from as string }, to as string);
  },
});
