/**
 * FETCH / UID FETCH: structure from the text rendered at delivery (or the stored summary), bodies as byte ranges of
 * the stored source. Messages are listed in batches, bodies read ahead with bounded concurrency while earlier ones are
 * written, and the response goes out in large writes that wait for the socket.
 */
import type { MessageRecord } from '@dizi/mail-store/ports/message-store';
import { defineCommand, SELECTED, type CommandContext } from '../command';
import { bad } from '../imap-error';
import { FetchOutput } from '../fetch/fetch-output';
import { FetchRenderer, type ByteNeeds } from '../fetch/fetch-renderer';
import { ReadAhead } from '../fetch/read-ahead';
import { RecordBatches } from '../fetch/record-batches';
import { toRanges } from '../fetch/uid-ranges';
import type { ImapArg } from '../parser/command-parser';
import { parseFetchItems, parseFetchModifiers, type FetchPlan } from '../parser/fetch-items';
import { formatSequenceSet, inRanges, resolveRanges, type SequenceSet } from '../parser/sequence-set';
import type { SelectedFolder, Session } from '../session';

export { toRanges };

/**
 * Message reads in flight while earlier messages are written (past the first, about this many bytes): enough that a
 * read worker's answer is there before it is needed even when threads wait for a CPU.
 */
const READ_AHEAD = { count: 256, bytes: 16 * 1024 * 1024 };

export async function runFetch(ctx: CommandContext, set: SequenceSet, itemsArg: ImapArg, modifiersArg: ImapArg | undefined): Promise<void> {
  const { session, uid } = ctx;
  const sel = session.requireSelected();
  const plan = parseFetchItems(itemsArg);
  const modifiers = parseFetchModifiers(modifiersArg);
  if (modifiers.vanished && (!uid || !session.enabled.has('QRESYNC'))) throw bad('VANISHED needs UID FETCH and QRESYNC');
  if (plan.modseq || modifiers.changedSince !== null) await session.enableCondstore();
  if (modifiers.changedSince !== null) plan.modseq = true;
  const uids = session.resolveSet(set, uid);
  if (modifiers.vanished && !set.saved) {
    const changes = await session.store.changesSince(sel.folder.id, modifiers.changedSince!);
    const ranges = resolveRanges(set.ranges, sel.knownUidNext);
    const vanished = changes.vanished.filter((u) => inRanges(u, ranges));
    if (vanished.length) session.untagged(`VANISHED (EARLIER) ${formatSequenceSet(vanished)}`);
  }
  if (uids.length === 0) return;

  const renderer = new FetchRenderer(session, plan, uid || plan.uid);
  const structure = plan.envelope || plan.bodyStructure;
  const batches = new RecordBatches(session.store, sel.folder.id, uids, {
    withSummary: renderer.needsSummary,
    withImapFormat: structure,
    withSource: renderer.readsBytes,
    changedSince: modifiers.changedSince ?? undefined,
  });
  const fetch = new FetchRun(session, sel, plan, renderer, structure && !renderer.needsSummary);
  const out = new FetchOutput(session);
  try {
    if (renderer.readsBytes) await fetch.withBodies(batches, out);
    else await fetch.withoutBodies(batches, out);
  } finally {
    // What was printed goes out, also before a NO.
    out.end();
  }
}

/** One FETCH command's pass over its batches. */
class FetchRun {
  /** Messages this FETCH set \Seen on: their FLAGS are shown even when not asked for. */
  private readonly seen = new Set<number>();

  constructor(
    private readonly session: Session,
    private readonly sel: SelectedFolder,
    private readonly plan: FetchPlan,
    private readonly renderer: FetchRenderer,
    /** Listed without summaries: rows stored before ENVELOPE/BODYSTRUCTURE were rendered need theirs. */
    private readonly summariesForUnrendered: boolean,
  ) {}

  /** Structure and flags only: each batch is printed in one synchronous pass. */
  async withoutBodies(batches: RecordBatches, out: FetchOutput): Promise<void> {
    for (let batch = await batches.take(); batch; batch = await batches.take()) {
      await this.prepare(batch);
      for (const record of batch) {
        if (this.sel.pendingExpunge.has(record.uid)) continue;
        this.render(record, null, null, out);
        if (out.full) await out.flush();
      }
      if (this.session.socket.destroyed) return;
    }
  }

  /** Bodies are read ahead across batches, in order, while earlier messages are written. */
  async withBodies(batches: RecordBatches, out: FetchOutput): Promise<void> {
    const ahead = new ReadAhead<{ record: MessageRecord; needs: ByteNeeds }>(READ_AHEAD);
    let batch: MessageRecord[] = [];
    let i = 0;
    let more = true;
    // A message that cannot be served ends the command, after the ones before it were sent (as one by one would).
    let failure: { error: unknown } | null = null;
    for (;;) {
      try {
        while (more && ahead.wantsMore()) {
          if (i === batch.length) {
            const next = await batches.take();
            if (!next) more = false;
            else {
              await this.prepare(next);
              batch = next;
              i = 0;
            }
            continue;
          }
          const record = batch[i++];
          if (this.sel.pendingExpunge.has(record.uid)) continue;
          const needs = this.renderer.needs(record);
          const span = needs.span;
          const read = span ? this.session.store.readMessage(record, { start: span.start, end: span.end - 1 }) : Promise.resolve(null);
          ahead.push({ record, needs }, span ? span.end - span.start : 0, read);
        }
      } catch (error) {
        failure = { error };
        more = false;
      }
      if (ahead.length === 0) break;
      const { item, data } = await ahead.take();
      this.render(item.record, item.needs, data, out);
      if (out.full) await out.flush();
      if (this.session.socket.destroyed) return;
    }
    if (failure) throw failure.error;
  }

  private render(record: MessageRecord, needs: ByteNeeds | null, data: Buffer | null, out: FetchOutput): void {
    const showFlags = this.plan.flags || this.seen.has(record.uid);
    // Flags the client is shown here are not repeated by the next sync.
    if (showFlags) this.session.told(record.uid, record.modseq);
    this.renderer.render(record, showFlags, needs, data, out);
  }

  /** \Seen for BODY[] and RFC822 (one transaction per batch), and summaries for rows without rendered structure. */
  private async prepare(records: MessageRecord[]): Promise<void> {
    const { session, sel } = this;
    if (this.plan.setsSeen && !sel.readOnly) {
      const unseen = records.filter((r) => !r.flags.includes('\\Seen')).map((r) => r.uid);
      if (unseen.length) {
        const result = await session.store.setFlags(sel.folder.id, toRanges(unseen), 'add', ['\\Seen']);
        session.ownChanges(result.changed, result.highestModseq);
        const changed = new Map(result.changed.map((c) => [c.uid, c]));
        for (const r of records) {
          const c = changed.get(r.uid);
          if (!c) continue;
          r.flags = c.flags;
          r.modseq = c.modseq;
        }
        for (const u of unseen) this.seen.add(u);
      }
    }
    if (this.summariesForUnrendered) {
      const missing = records.filter((r) => !r.imapFormat);
      if (missing.length) {
        const listed = await session.store.listMessages(sel.folder.id, { uids: toRanges(missing.map((r) => r.uid)), withSummary: true });
        const summaries = new Map(listed.map((r) => [r.uid, r.summary]));
        for (const r of missing) r.summary = summaries.get(r.uid);
      }
    }
  }
}

export const fetchCommand = defineCommand({
  name: 'FETCH',
  uidVariant: true,
  states: SELECTED,
  args: ['seqset', 'rest'],
  forbidsExpunge: (ctx) => !ctx.uid,
  async handle(ctx, [set, rest]) {
    const args = rest as ImapArg[];
    if (args.length < 1 || args.length > 2) throw bad('FETCH needs items');
    await runFetch(ctx, set as SequenceSet, args[0], args[1]);
  },
});
