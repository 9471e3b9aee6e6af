import type { FlagMode } from '@dizi/mail-store/ports/message-store';
import { defineCommand, SELECTED } from '../command';
import { bad } from '../imap-error';
import { argString, type ImapArg } from '../parser/command-parser';
import { formatSequenceSet, type SequenceSet } from '../parser/sequence-set';
import { flagList } from '../wire';
import { toRanges } from './fetch.command';

/** STORE / UID STORE with CONDSTORE's UNCHANGEDSINCE (failures answer [MODIFIED set]); .SILENT still reports new MODSEQs under CONDSTORE. */
export const storeCommand = defineCommand({
  name: 'STORE',
  uidVariant: true,
  states: SELECTED,
  args: ['seqset', 'rest'],
  forbidsExpunge: (ctx) => !ctx.uid,
  async handle({ session, uid }, [set, rest]) {
    const sel = session.requireWritable();
    const args = rest as ImapArg[];
    let i = 0;
    let unchangedSince: number | undefined;
    if (args[0]?.type === 'list') {
      const mods = args[0].items;
      if (argString(mods[0])?.toUpperCase() !== 'UNCHANGEDSINCE' || !/^\d+$/.test(argString(mods[1]) ?? '')) throw bad('Invalid STORE modifier');
      unchangedSince = Number(argString(mods[1]));
      await session.enableCondstore();
      i = 1;
    }
    const op = argString(args[i])?.toUpperCase();
    const m = op ? /^([+-]?)FLAGS(\.SILENT)?$/.exec(op) : null;
    if (!m) throw bad('Expected FLAGS, +FLAGS or -FLAGS');
    const mode: FlagMode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
    const silent = !!m[2];
    const flagArgs = args.slice(i + 1);
    const flags: string[] = [];
    for (const arg of flagArgs.length === 1 && flagArgs[0].type === 'list' ? flagArgs[0].items : flagArgs) {
      // The parser reads the atom NIL as nil; as a flag it is the keyword "NIL".
      const a = arg.type === 'nil' ? { type: 'atom' as const, value: 'NIL' } : arg;
      if (a.type !== 'atom' || !/^\\?[^\s()\]{%*"\\]+$/.test(a.value)) throw bad('Invalid flag');
      if (a.value.toLowerCase() === '\\recent') continue;
      flags.push(a.value);
    }
    const uids = session.resolveSet(set as SequenceSet, uid).filter((u) => !sel.pendingExpunge.has(u));
    if (uids.length === 0) return;
    const result = await session.store.setFlags(sel.folder.id, toRanges(uids), mode, flags, { unchangedSince });
    session.ownChanges(result.changed, result.highestModseq);
    const changed = new Map(result.changed.map((c) => [c.uid, c]));
    const failed = new Set(result.failed);
    // The messages left as they were still get their FLAGS (unless .SILENT): read them as they are now.
    const unchanged = silent ? [] : uids.filter((u) => !changed.has(u) && !failed.has(u));
    const current = new Map<number, { flags: string[]; modseq: number }>(changed);
    if (unchanged.length) {
      for (const r of await session.store.listMessages(sel.folder.id, { uids: toRanges(unchanged), withSummary: false })) {
        current.set(r.uid, r);
        session.told(r.uid, r.modseq);
      }
    }
    for (const u of uids) {
      if (failed.has(u)) continue;
      // RFC 7162 §3.1.3: once CONDSTORE is on, a changed message's FETCH (with MODSEQ) goes out even for .SILENT.
      if (silent && !(session.condstore && changed.has(u))) continue;
      const now = current.get(u);
      // Expunged meanwhile by another session: its EXPUNGE comes with the next sync.
      if (!now) continue;
      const parts: string[] = [];
      if (!silent) parts.push(`FLAGS ${flagList(session.flagsOf(u, now.flags))}`);
      if (uid) parts.unshift(`UID ${u}`);
      if (session.condstore) parts.push(`MODSEQ (${now.modseq})`);
      session.untagged(`${session.seqOf(u)} FETCH (${parts.join(' ')})`);
    }
    if (result.failed.length) {
      const numbers = uid ? result.failed : result.failed.map((u) => session.seqOf(u));
      return `[MODIFIED ${formatSequenceSet(numbers)}] Conditional STORE failed`;
    }
  },
});
