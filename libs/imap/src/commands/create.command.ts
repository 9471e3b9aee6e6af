import { INBOX } from '@dizi/mail-store/ports/message-store';
import { AUTHENTICATED, defineCommand } from '../command';
import { no } from '../imap-error';
import type { ImapArg } from '../parser/command-parser';

export const createCommand = defineCommand({
  name: 'CREATE',
  states: AUTHENTICATED,
  args: ['mailbox', 'list?'],
  async handle({ session }, [name, _params]) {
    void (_params as ImapArg[] | undefined);
    if (name === INBOX) throw no('INBOX already exists', 'ALREADYEXISTS');
    session.checkNewFolderName(name as string);
    await session.store.createFolder(session.mailboxId!, name as string, { subscribed: false });
  },
});
