import { AUTHENTICATED, defineCommand, type CommandContext } from '../command';
import { bad, no } from '../imap-error';
import { argString, type ImapArg } from '../parser/command-parser';
import { formatSequenceSet, parseSequenceSet, resolveRanges, inRanges } from '../parser/sequence-set';
import { flagList } from '../wire';

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
  // Counts, UIDs, first unseen and keywords in one store call; no message is listed. Notifications flow first, so
  // no change after this view goes unannounced.
  await session.watching();
  const view = await session.store.viewFolder(session.mailboxId!, { name });
  const { folder } = view;
  const sel = session.select(view, readOnly);
  session.announceFlags(sel);
  session.untagged(`${sel.uids.count} EXISTS`);
  if (session.showsRecent) session.untagged(`${sel.recent.count} RECENT`);
  const firstUnseen = view.firstUnseenUid === null ? 0 : sel.uids.seqOf(view.firstUnseenUid);
  if (firstUnseen > 0 && !session.enabled.has('IMAP4REV2')) session.untagged(`OK [UNSEEN ${firstUnseen}] First unseen`);
  session.untagged(`OK [UIDVALIDITY ${folder.uidValidity}] UIDs valid`);
  session.untagged(`OK [UIDNEXT ${folder.uidNext}] Predicted next UID`);
  if (session.condstore) session.untagged(`OK [HIGHESTMODSEQ ${folder.highestModseq}] Highest`);
  else session.untagged('OK [NOMODSEQ] No permanent modsequences');
  if (session.enabled.has('IMAP4REV2')) session.untagged(`LIST () "/" ${session.wireName(folder.name)}`);
  if (qresync && qresync.uidValidity === folder.uidValidity) await resync(ctx, qresync);
  return `[${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${readOnly ? 'EXAMINE' : 'SELECT'} completed`;
}

async function resync(ctx: CommandContext, params: QresyncParams): Promise<void> {
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
  for (const r of changes.changed) {
    if (!sel.uids.has(r.uid)) continue;
    session.untagged(`${session.seqOf(r.uid)} FETCH (UID ${r.uid} FLAGS ${flagList(session.flagsOf(r.uid, r.flags))} MODSEQ (${r.modseq}))`);
    session.told(r.uid, r.modseq);
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
