import { FOLDER_DELIMITER } from '@dizi/mail-store/ports/message-store';
import { AUTHENTICATED, defineCommand } from '../command';
import { quoteString } from '../wire';

export const namespaceCommand = defineCommand({
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  args: [],
  async handle({ session }) {
    session.untagged(`NAMESPACE (("" ${quoteString(FOLDER_DELIMITER)})) NIL NIL`);
  },
});
