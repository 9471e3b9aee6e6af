import { AUTHENTICATED, defineCommand } from '../command';
import type { ImapArg } from '../parser/command-parser';
import { runList } from './list.command';

export const lsubCommand = defineCommand({
  name: 'LSUB',
  states: AUTHENTICATED,
  args: ['rest'],
  async handle(ctx, [rest]) {
    await runList(ctx, rest as ImapArg[], true);
  },
});
