import { ANY_STATE, defineCommand } from '../command';
import { bad } from '../imap-error';
import { quoteString } from '../wire';

/** RFC 2971: the client's parameters are accepted and ignored; ours name the server. */
export const idCommand = defineCommand({
  name: 'ID',
  states: ANY_STATE,
  args: ['rest'],
  async handle({ session }, [rest]) {
    const args = rest as Array<{ type: string; items?: unknown[] }>;
    if (args.length !== 1 || (args[0].type !== 'nil' && args[0].type !== 'list')) throw bad('ID takes a parameter list or NIL');
    if (args[0].type === 'list' && (args[0].items!.length % 2 !== 0 || args[0].items!.length > 60)) throw bad('ID parameters come in name/value pairs');
    session.untagged(`ID ("name" ${quoteString(session.settings.serverName)} "vendor" "Dizi")`);
  },
});
