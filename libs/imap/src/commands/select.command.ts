import type { MessageRecord } from '@dizi/mail-store/ports/message-store';
import { AUTHENTICATED, defineCommand, type CommandContext } from '../command';
import { bad, no } from '../imap-error';
import { argString, type ImapArg } from '../parser/command-parser';
import { formatSequenceSet, parseSequenceSet, resolveRanges, inRanges } from '../parser/sequence-set';
import { flagList } from '../wire';

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids: string | null;
}

function parseSelectParams(ctx: CommandContext, params: ImapArg[] | undefined): { condstore: boolean; qresync: QresyncParams | null } {
  let condstore = false;
  let qresync: QresyncParams | null = null;
  const items = params ?? [];
  for (let i = 0; i < items.length; i++) {
    const name = argString(items[i])?.toUpperCase();
    if (name === 'CONDSTORE') condstore = true;
    else if (name === 'QRESYNC') {
      if (!ctx.session.enabled.has('QRESYNC')) throw bad('QRESYNC must be enabled first');
      const list = items[++i];
      if (!list || list.type !== 'list' || list.items.length < 2) throw bad('QRESYNC needs (uidvalidity modseq [known-uids])');
      const [v, m, known] = list.items.map(argString);
      if (!v || !m || !/^\d+$/.test(v) || !/^\d+$/.test(m)) throw bad('Invalid QRESYNC parameters');
      qresync = { uidValidity: Number(v), modseq: Number(m), knownUids: known ?? null };
    } else throw bad(`Unknown SELECT parameter ${name ?? ''}`);
  }
  return { condstore, qresync };
}

/** SELECT and EXAMINE share everything but read-only. */
export async function openFolder(ctx: CommandContext, name: string, params: ImapArg[] | undefined, readOnly: boolean): Promise<string> {
  const { session } = ctx;
  const { condstore, qresync } = parseSelectParams(ctx, params);
  if (session.selected) {
    session.unselect();
    if (session.enabled.has('QRESYNC')) session.untagged('OK [CLOSED] Previous mailbox closed');
  }
  if (condstore) session.enabled.add('CONDSTORE');
  const folder = await session.store.getFolder(session.mailboxId!, { name });
  const sel = await session.select(folder, readOnly);
  const keywords = new Set<string>();
  const records = await session.store.listMessages(folder.id, { withSummary: false });
  for (const r of records) for (const f of r.flags) if (!f.startsWith('\\')) keywords.add(f);
  const flags = [...SYSTEM_FLAGS, ...keywords];
  session.untagged(`FLAGS ${flagList(flags)}`);
  session.untagged(`OK [PERMANENTFLAGS ${flagList(readOnly ? [] : [...flags, '\\*'])}] Flags permitted`);
  session.untagged(`${sel.uids.length} EXISTS`);
  session.untagged(`${sel.recent.size} RECENT`);
  const firstUnseen = records.findIndex((r) => !r.flags.includes('\\Seen'));
  if (firstUnseen >= 0 && !session.enabled.has('IMAP4REV2')) session.untagged(`OK [UNSEEN ${firstUnseen + 1}] First unseen`);
  session.untagged(`OK [UIDVALIDITY ${folder.uidValidity}] UIDs valid`);
  session.untagged(`OK [UIDNEXT ${folder.uidNext}] Predicted next UID`);
  if (session.condstore) session.untagged(`OK [HIGHESTMODSEQ ${folder.highestModseq}] Highest`);
  else session.untagged('OK [NOMODSEQ] No permanent modsequences');
  if (session.enabled.has('IMAP4REV2')) session.untagged(`LIST () "/" ${session.wireName(folder.name)}`);
  if (qresync && qresync.uidValidity === folder.uidValidity) await resync(ctx, qresync, records);
  return `[${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${readOnly ? 'EXAMINE' : 'SELECT'} completed`;
}

async function resync(ctx: CommandContext, params: QresyncParams, records: MessageRecord[]): Promise<void> {
  const { session } = ctx;
  const sel = session.requireSelected();
  const changes = await session.store.changesSince(sel.folder.id, params.modseq);
  let vanished = changes.vanished;
  if (params.knownUids) {
    const set = parseSequenceSet(params.knownUids);
    if (!set || set.saved) throw bad('Invalid known-uids');
    const ranges = resolveRanges(set.ranges, sel.knownUidNext);
    vanished = vanished.filter((u) => inRanges(u, ranges));
  }
  if (vanished.length) session.untagged(`VANISHED (EARLIER) ${formatSequenceSet(vanished)}`);
  const present = new Set(records.map((r) => r.uid));
  for (const r of changes.changed) {
    if (!present.has(r.uid)) continue;
    session.untagged(`${session.seqOf(r.uid)} FETCH (UID ${r.uid} FLAGS ${flagList(session.flagsOf(r.uid))} MODSEQ (${r.modseq}))`);
  }
}

export const selectCommand = defineCommand({
  name: 'SELECT',
  states: AUTHENTICATED,
  args: ['mailbox', 'list?'],
  async handle(ctx, [name, params]) {
    return openFolder(ctx, name as string, params as ImapArg[] | undefined, false);
  },
});

export function assertExists(found: boolean): void {
  if (!found) throw no('Mailbox does not exist', 'NONEXISTENT');
}
