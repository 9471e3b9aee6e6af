// SEARCH and SORT as the stores answer them (searchHits: columns and indexes, one statement on PostgreSQL) against
// the reference that reads every message (evaluateSearchByReading) and the RFC 5256 keys taken from the summaries,
// over a varied corpus: Chinese, encoded words, groups, missing headers, header prefixes, flags and dates.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '@dizi/mail-store/adapters/fs-blob-store';
import { MemoryBlobStore } from '@dizi/mail-store/adapters/memory-blob-store';
import { MemoryMessageStore } from '@dizi/mail-store/adapters/memory-message-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { PostgresMessageStore } from '@dizi/mail-store/adapters/postgres-message-store';
import { applyFlagMode, normalizeFlags } from '@dizi/mail-store/message-rules';
import { INBOX, type FlagMode, type MessageRecord, type MessageStore, type SortCriterion, type SortKey } from '@dizi/mail-store/ports/message-store';
import { baseSubject } from '@dizi/mime/base-subject';
import { decodeHeaderText } from '@dizi/mime/mime-header';
import { summariseMessage } from '@dizi/mime/message-summary';
import { createTestDatabase, type TestDatabase } from '@dizi/testing/test-database';
import { storedParts } from '../src/commands/append.command';
import { summaryOf } from '../src/message-access';
import type { ImapArg } from '../src/parser/command-parser';
import { parseSearchKeys } from '../src/parser/search-query';
import { evaluateSearchByReading, searchHits } from '../src/search-evaluator';
import type { SelectedFolder, Session } from '../src/session';
import { UidMap } from '../src/uid-map';
import { parseArgs, type Arg } from './imap-args';

const b64 = (s: string, charset = 'UTF-8') => `=?${charset}?B?${Buffer.from(s).toString('base64')}?=`;

/** Raw messages; every header a SEARCH key reads is varied, and some are missing. */
function corpus(): Array<{ raw: string; flags?: string[]; date: string; prefix?: string }> {
  const out: Array<{ raw: string; flags?: string[]; date: string; prefix?: string }> = [];
  const names = ['Ann Lee', '王小明', 'Bob "the builder" Smith', '', 'Zoë Ærø', '李四'];
  const hosts = ['example.test', 'corp.example', '中国.example', 'lists.example.org'];
  const subjects = ['Quarterly report', 'Re: Quarterly report', 'Fwd: 北京市海淀区的财务报告', '[list] weekly notes', '回复：会议安排',
    'RE: re: Budget (fwd)', '', 'Ünïcödé subject', 'zebra', 'apple pie'];
  for (let i = 0; i < 60; i++) {
    const name = names[i % names.length];
    const host = hosts[i % hosts.length];
    const subject = subjects[i % subjects.length];
    const encodedName = i % 3 === 0 && name ? b64(name) : name ? `"${name.replace(/"/g, '\\"')}"` : '';
    const from = `${encodedName ? `${encodedName} ` : ''}<user${i % 7}@${host}>`;
    const lines: string[] = [];
    if (i % 11 !== 5) lines.push(`From: ${from}`);
    if (i % 9 !== 4) lines.push(i % 10 === 3 ? `To: undisclosed-recipients:;` : `To: ${i % 2 ? b64('收件人') : 'Carol'} <carol${i % 4}@${hosts[(i + 1) % hosts.length]}>, dave@example.test`);
    if (i % 4 === 1) lines.push(`Cc: team: erin@example.test, frank@corp.example;, 	"Gina" <gina@example.test>`);
    if (i % 6 === 2) lines.push(`Bcc: hidden${i}@example.test`);
    if (i % 8 === 3) lines.push(`Sender: list-bounces@lists.example.org`);
    if (i % 5 === 0) lines.push(`Reply-To: ${b64('回复地址')} <reply@example.test>`);
    if (subject || i % 10 !== 6) lines.push(`Subject: ${i % 4 === 2 && subject ? b64(subject) : subject}`);
    if (i % 13 !== 7) lines.push(`Date: ${['Mon, 7 Dec 2026 23:30:00 -0800', 'Tue, 8 Dec 2026 01:15:00 +0800', '8 Dec 26 12:00 GMT', 'garbage date', 'Wed, 09 Dec 2026 10:00:00 +0000'][i % 5]}`);
    if (i % 12 !== 11) lines.push(`Message-ID: <msg${i}.${i % 3 ? 'ABC' : 'abc'}@${host}>`);
    if (i % 3 === 1) lines.push(`In-Reply-To: <msg${i - 1}.abc@${host}>`);
    if (i % 3 === 1) lines.push(`References: <msg${i - 2}@x.example>\r\n <msg${i - 1}.abc@${host}>`);
    if (i % 4 === 0) lines.push(`List-Id: Weekly ${b64('周报')} <weekly.lists.example.org>`);
    if (i % 5 === 3) lines.push(`X-Mailer: Foxmail 7.2 (build ${i})`);
    const body = i % 2 ? `Body ${i} about budgets.\r\n` : `正文 ${i}，关于预算。\r\n`;
    out.push({
      raw: `${lines.join('\r\n')}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}${'padding line\r\n'.repeat(i % 9)}`,
      flags: [['\\Seen'], ['\\Flagged', '$Label1'], [], ['\\Seen', '\\Answered'], ['\\Deleted'], ['$label1']][i % 6],
      date: new Date(Date.UTC(2026, 11, 1 + (i % 10), (i * 7) % 24)).toISOString(),
      prefix: i % 7 === 0 ? `Delivered-To: box${i}@example.test\r\n` : undefined,
    });
  }
  return out;
}

const QUERIES = [
  'ALL', 'FROM ann', 'FROM "ann lee"', 'FROM 王小明', 'FROM 小明', 'FROM user3@', 'FROM "<user1@example.test>"', 'FROM 中国', 'FROM ""',
  'FROM builder', 'FROM "ZOË"', 'TO carol', 'TO 收件人', 'TO undisclosed', 'TO ""', 'TO dave@example.test', 'CC gina', 'CC erin@', 'CC team',
  'BCC hidden1', 'BCC ""', 'SUBJECT quarterly', 'SUBJECT "re: quarterly"', 'SUBJECT 海淀', 'SUBJECT 财务报告', 'SUBJECT 会议', 'SUBJECT ""',
  'SUBJECT ünïcödé', 'SUBJECT "(fwd)"', 'HEADER Message-ID <msg12.abc@example.test>', 'HEADER Message-ID msg1', 'HEADER Message-ID ABC@',
  'HEADER message-id ""', 'HEADER In-Reply-To msg3', 'HEADER References msg10', 'HEADER References ""', 'HEADER List-Id weekly',
  'HEADER List-Id 周报', 'HEADER List-Id ""', 'HEADER X-Mailer foxmail', 'HEADER Sender lists.example', 'HEADER Reply-To 回复',
  'HEADER Delivered-To box14', 'HEADER Subject budget', 'NOT FROM ann', 'OR FROM ann TO carol', 'NOT OR SUBJECT report HEADER List-Id weekly',
  'SEEN FROM user1', 'UNSEEN', 'FLAGGED', 'KEYWORD $label1', 'UNKEYWORD $Label1', 'DELETED NOT ANSWERED', 'LARGER 400', 'SMALLER 420',
  'SINCE 5-Dec-2026', 'BEFORE 3-Dec-2026', 'ON 4-Dec-2026', 'SENTON 8-Dec-2026', 'SENTON 7-Dec-2026', 'SENTBEFORE 8-Dec-2026',
  'SENTSINCE 9-Dec-2026', 'UID 5:20', 'UID 3,9,27:*', '1:10', '2,4,6,8,10,12,14,16,18,20,22,24,26,28,30,32,34,36,38,40', 'MODSEQ 30',
  'UID 1:30 NOT FROM ann', 'OR (SEEN FLAGGED) (SUBJECT zebra)', 'TEXT budgets FROM user2', 'BODY 预算 NOT SUBJECT 海淀', 'NEW', 'OLD', 'RECENT',
  'NOT (FROM "" TO "")',
];

function toImapArgs(args: Arg[]): ImapArg[] {
  return args.map((a): ImapArg => {
    if (a.type === 'list') return { type: 'list', items: toImapArgs(a.items) };
    if (a.type === 'string' || a.type === 'literal') return { type: 'string', value: a.value, raw: Buffer.from(a.value), literal: false };
    return a;
  });
}

/** RFC 5256 keys read from the summaries: how SORT ordered before the store kept sort keys. */
const REFERENCE_SORT: Record<SortKey, (r: MessageRecord) => string | number> = {
  arrival: (r) => r.internalDate.getTime(),
  date: (r) => {
    const d = summaryOf(r)?.date ? new Date(summaryOf(r)!.date as unknown as string) : null;
    return d && !Number.isNaN(d.getTime()) ? d.getTime() : r.internalDate.getTime();
  },
  size: (r) => r.size,
  subject: (r) => (summaryOf(r)?.baseSubject ?? baseSubject(summaryOf(r)?.subject ?? '')).toUpperCase(),
  from: (r) => (summaryOf(r)?.envelope.from?.[0]?.mailbox ?? '').toUpperCase(),
  to: (r) => (summaryOf(r)?.envelope.to?.[0]?.mailbox ?? '').toUpperCase(),
  cc: (r) => (summaryOf(r)?.envelope.cc?.[0]?.mailbox ?? '').toUpperCase(),
  displayfrom: (r) => display(r, 'from'),
  displayto: (r) => display(r, 'to'),
};

function display(r: MessageRecord, field: 'from' | 'to'): string {
  const a = summaryOf(r)?.envelope[field]?.[0];
  if (!a) return '';
  return a.name ? decodeHeaderText(a.name).toUpperCase() : `${a.mailbox ?? ''}@${a.host ?? ''}`.toUpperCase();
}

const SORTS: SortCriterion[][] = [
  [{ key: 'subject', reverse: false }], [{ key: 'date', reverse: true }], [{ key: 'from', reverse: false }], [{ key: 'to', reverse: false }],
  [{ key: 'cc', reverse: true }], [{ key: 'size', reverse: false }], [{ key: 'arrival', reverse: true }],
  [{ key: 'displayfrom', reverse: false }], [{ key: 'displayto', reverse: false }],
  [{ key: 'subject', reverse: false }, { key: 'date', reverse: true }], [{ key: 'from', reverse: true }, { key: 'size', reverse: false }],
];

function referenceSort(records: MessageRecord[], sort: SortCriterion[]): number[] {
  const keyed = records.map((r) => ({ uid: r.uid, v: sort.map((c) => REFERENCE_SORT[c.key](r)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < sort.length; i++) {
      const x = a.v[i];
      const y = b.v[i];
      const cmp = x < y ? -1 : x > y ? 1 : 0;
      if (cmp) return sort[i].reverse ? -cmp : cmp;
    }
    return a.uid - b.uid;
  });
  return keyed.map((k) => k.uid);
}

async function fill(store: MessageStore, mailboxId: string): Promise<Session> {
  for (const m of corpus()) {
    const blob = await store.putBlob(Buffer.from(m.raw));
    const parts = storedParts(await summariseMessage(Buffer.from(m.raw)));
    await store.append(mailboxId, { name: INBOX }, {
      blobHash: blob.hash, headerPrefix: m.prefix, flags: m.flags, internalDate: new Date(m.date), ...parts,
    }, { enforceQuota: false });
  }
  const view = await store.viewFolder(mailboxId, { name: INBOX });
  // A session that has seen all but the last three messages' UIDs as recent, and has expunged nothing.
  const uids = UidMap.fromRuns(view.uidRuns);
  const recent = UidMap.fromUids([uids.uidAt(uids.count - 2), uids.uidAt(uids.count - 1), uids.uidAt(uids.count)]);
  const selected = { folder: view.folder, readOnly: false, uids, recent, savedResult: [] } as unknown as SelectedFolder;
  return { store, selected, requireSelected: () => selected, enableCondstore: async () => undefined } as unknown as Session;
}

interface DifferentialSetup {
  store: MessageStore;
  mailboxId: string;
  /** Runs once the corpus is stored. */
  afterFill?: () => Promise<void>;
  close: () => Promise<void>;
}

function describeDifferential(name: string, setup: () => Promise<DifferentialSetup>) {
  describe(`SEARCH and SORT from the ${name} store agree with reading every message`, () => {
    let session: Session;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const s = await setup();
      close = s.close;
      session = await fill(s.store, s.mailboxId);
      await s.afterFill?.();
    }, 60_000);
    afterAll(() => close());

    it('answers every SEARCH key class, alone and combined, as the reference does', async () => {
      const mismatches: string[] = [];
      let nonEmpty = 0;
      for (const q of QUERIES) {
        const key = parseSearchKeys(toImapArgs(parseArgs(q)));
        const expected = (await evaluateSearchByReading(session, key)).map((r) => r.uid);
        const got = (await searchHits(session, key)).map((h) => h.uid);
        if (expected.length > 0 && expected.length < 60) nonEmpty++;
        if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push(`${q}: got ${got.join(',')} expected ${expected.join(',')}`);
      }
      expect(mismatches).toEqual([]);
      // The corpus must make most keys select some messages and not all, or agreement proves little.
      expect(nonEmpty).toBeGreaterThan(QUERIES.length * 0.7);
    });

    it('applies STORE add/remove/replace over ranges as message-rules.ts defines them, case-insensitively, in one MODSEQ each', async () => {
      const sel = session.requireSelected();
      const steps: Array<[number, number, FlagMode, string[]]> = [
        [1, 30, 'add', ['\\flagged', '$Label1', 'NewKw']], [10, 50, 'remove', ['$LABEL1', '\\seen']],
        [55, 60, 'replace', ['\\Draft', 'kw2', 'KW2']], [1, 60, 'add', ['\\Seen']], [20, 25, 'replace', []],
      ];
      const expected = new Map(corpus().map((m, i) => [i + 1, normalizeFlags(m.flags ?? [])]));
      for (const [from, to, mode, flags] of steps) {
        const before = (await session.store.folderStatus(sel.folder.id)).highestModseq;
        const result = await session.store.setFlags(sel.folder.id, [{ from, to }], mode, flags);
        const changed: number[] = [];
        for (let uid = from; uid <= to; uid++) {
          const next = applyFlagMode(expected.get(uid)!, mode, flags);
          if (JSON.stringify(next.map((f) => f.toLowerCase()).sort()) !== JSON.stringify(expected.get(uid)!.map((f) => f.toLowerCase()).sort())) changed.push(uid);
          expected.set(uid, next);
        }
        expect(result.changed.map((c) => c.uid)).toEqual(changed);
        expect(result.highestModseq).toBe(changed.length ? before + 1 : before);
      }
      const records = await session.store.listMessages(sel.folder.id, { withSummary: false });
      expect(records.map((r) => [r.uid, r.flags])).toEqual([...expected.entries()]);
      const status = await session.store.folderStatus(sel.folder.id);
      expect(status.unseenCount).toBe([...expected.values()].filter((f) => !f.includes('\\Seen')).length);
    });

    it('gives THREAD its keys (Message-ID, In-Reply-To, References, subjects, sent time) as the summaries hold them', async () => {
      const sel = session.requireSelected();
      const records = await session.store.listMessages(sel.folder.id, { withSummary: true });
      const hits = await session.store.searchMessages(sel.folder.id, { op: 'all' }, { withThreadKeys: true });
      expect(hits.map((h) => [h.uid, h.thread])).toEqual(records.map((r) => {
        const s = summaryOf(r)!;
        return [r.uid, {
          messageId: s.messageId, inReplyTo: s.inReplyTo, references: s.references, subject: s.subject,
          baseSubject: s.baseSubject.toUpperCase(), sentTime: REFERENCE_SORT.date(r),
        }];
      }));
      expect(hits.filter((h) => h.thread!.references.length > 1).length).toBeGreaterThan(10);
    });

    it('orders SORT by every key and key pair as the RFC 5256 keys of the summaries do', async () => {
      const sel = session.requireSelected();
      const records = await session.store.listMessages(sel.folder.id, { withSummary: true });
      for (const sort of SORTS) {
        const got = (await searchHits(session, { op: 'all' }, sort)).map((h) => h.uid);
        expect({ sort, order: got }).toEqual({ sort, order: referenceSort(records, sort) });
      }
      const someFrom = parseSearchKeys(toImapArgs(parseArgs('OR FROM ann SUBJECT report')));
      const subset = new Set((await evaluateSearchByReading(session, someFrom)).map((r) => r.uid));
      const got = (await searchHits(session, someFrom, [{ key: 'subject', reverse: true }])).map((h) => h.uid);
      expect(got).toEqual(referenceSort(records.filter((r) => subset.has(r.uid)), [{ key: 'subject', reverse: true }]));
    });
  });
}

describeDifferential('memory', async () => {
  const store = new MemoryMessageStore({ blobs: new MemoryBlobStore(), notifier: new MemoryNotifier() });
  store.addMailbox('mailbox-1', 1024 ** 3);
  await store.createDefaultFolders('mailbox-1');
  return { store, mailboxId: 'mailbox-1', close: async () => undefined };
});

describeDifferential('PostgreSQL', async () => {
  const db: TestDatabase = await createTestDatabase();
  // The data source's own pool (protocol libraries import no driver, tests included).
  const pool = (db.dataSource.driver as unknown as { master: ConstructorParameters<typeof PostgresMessageStore>[0]['pool'] }).master;
  const dir = await mkdtemp(join(tmpdir(), 'dizi-search-diff-'));
  const store = new PostgresMessageStore({ pool, blobs: new FsBlobStore(dir), notifier: new MemoryNotifier() });
  const tag = Math.random().toString(36).slice(2, 10);
  const [tenant] = await db.dataSource.query(`INSERT INTO tenant (name) VALUES ($1) RETURNING id`, [`t-${tag}`]);
  const [domain] = await db.dataSource.query(`INSERT INTO domain (tenant_id, name, unicode_name) VALUES ($1, $2, $2) RETURNING id`, [tenant.id, `${tag}.example`]);
  const [mailbox] = await db.dataSource.query(
    `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, password_hash, quota_bytes) VALUES ($1, $2, 'user', $3, 'x', $4) RETURNING id`,
    [tenant.id, domain.id, `user@${tag}.example`, 1024 ** 3],
  );
  return {
    store, mailboxId: mailbox.id,
    // Every other row as stored before search_fields existed: the store fills them when the folder is searched.
    afterFill: async () => {
      await db.dataSource.query(`UPDATE message SET search_fields = NULL WHERE uid % 2 = 0`);
    },
    close: async () => {
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
