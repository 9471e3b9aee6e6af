import type { Folder } from '@dizi/mail-store/ports/message-store';
import { AUTHENTICATED, defineCommand } from '../command';
import { bad } from '../imap-error';
import { argString, type ImapArg } from '../parser/command-parser';
import type { Session } from '../session';

/** The `STATUS name (...)` response line for a folder, shared with LIST-STATUS (which passes the folder it just listed). */
export async function statusLine(session: Session, name: string, items: ImapArg[], listed?: Folder): Promise<string> {
  const folder = listed ?? await session.store.getFolder(session.mailboxId!, { name });
  const parts: string[] = [];
  for (const item of items) {
    const key = argString(item)?.toUpperCase();
    switch (key) {
      case 'MESSAGES': parts.push(`MESSAGES ${folder.messageCount}`); break;
      case 'UIDNEXT': parts.push(`UIDNEXT ${folder.uidNext}`); break;
      case 'UIDVALIDITY': parts.push(`UIDVALIDITY ${folder.uidValidity}`); break;
      case 'UNSEEN': parts.push(`UNSEEN ${folder.unseenCount}`); break;
      case 'SIZE': parts.push(`SIZE ${folder.sizeBytes}`); break;
      case 'HIGHESTMODSEQ': parts.push(`HIGHESTMODSEQ ${folder.highestModseq}`); break;
      case 'RECENT': {
        const claimed = session.services.recent.claimedUpTo(folder.id);
        const recent = claimed + 1 < folder.uidNext
          ? (await session.store.listMessages(folder.id, { uids: [{ from: claimed + 1, to: folder.uidNext }], withSummary: false })).length
          : 0;
        parts.push(`RECENT ${recent}`);
        break;
      }
      case 'DELETED': {
        const all = await session.store.listMessages(folder.id, { withSummary: false });
        parts.push(`DELETED ${all.filter((m) => m.flags.includes('\\Deleted')).length}`);
        break;
      }
      default:
        throw bad(`Unknown STATUS item ${key ?? ''}`);
    }
  }
  return `STATUS ${session.wireName(folder.name)} (${parts.join(' ')})`;
}

export const statusCommand = defineCommand({
  name: 'STATUS',
  states: AUTHENTICATED,
  args: ['mailbox', 'list'],
  async handle({ session }, [name, items]) {
    if ((items as ImapArg[]).length === 0) throw bad('STATUS needs at least one item');
    session.untagged(await statusLine(session, name as string, items as ImapArg[]));
  },
});
