import { AUTHENTICATED, defineCommand } from '../command';
import type { ImapArg } from '../parser/command-parser';
import { openFolder } from './select.command';

export const examineCommand = defineCommand({
  name: 'EXAMINE',
  states: AUTHENTICATED,
  args: ['mailbox', 'list?'],
  async handle(ctx, [name, params]) {
    return openFolder(ctx, name as string, params as ImapArg[] | undefined, true);
  },
});
