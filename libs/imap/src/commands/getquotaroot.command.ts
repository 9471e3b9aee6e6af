import { AUTHENTICATED, defineCommand } from '../command';
import { quotaLine } from './getquota.command';

export const getquotarootCommand = defineCommand({
  name: 'GETQUOTAROOT',
  states: AUTHENTICATED,
  args: ['mailbox'],
  async handle({ session }, [name]) {
    const folder = await session.store.getFolder(session.mailboxId!, { name: name as string });
    session.untagged(`QUOTAROOT ${session.wireName(folder.name)} ""`);
    session.untagged(await quotaLine(session));
  },
});
