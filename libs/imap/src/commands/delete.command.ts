import { AUTHENTICATED, defineCommand } from '../command';

export const deleteCommand = defineCommand({
  name: 'DELETE',
  states: AUTHENTICATED,
  args: ['mailbox'],
  async handle({ session }, [name]) {
    const folder = await session.store.getFolder(session.mailboxId!, { name: name as string });
    if (session.selected?.folder.id === folder.id) session.unselect();
    await session.store.deleteFolder(session.mailboxId!, { id: folder.id });
  },
});
