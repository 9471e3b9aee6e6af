import { AUTHENTICATED, defineCommand } from '../command';
import { bad } from '../imap-error';
import type { ImapArg } from '../parser/command-parser';

const ENABLEABLE = new Set(['IMAP4REV2', 'CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT']);

export const enableCommand = defineCommand({
  name: 'ENABLE',
  states: AUTHENTICATED,
  args: ['rest'],
  async handle({ session }, [rest]) {
    const args = rest as ImapArg[];
    if (args.length === 0) throw bad('ENABLE needs at least one capability');
    const newly: string[] = [];
    for (const arg of args) {
      if (arg.type !== 'atom') throw bad('Capabilities are atoms');
      const name = arg.value.toUpperCase();
      if (!ENABLEABLE.has(name) || session.enabled.has(name)) continue;
      session.enabled.add(name);
      // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
      if (name === 'QRESYNC') session.enabled.add('CONDSTORE');
      newly.push(arg.value);
    }
    session.untagged(`ENABLED${newly.length ? ' ' + newly.join(' ') : ''}`);
  },
});
