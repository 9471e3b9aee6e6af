/** Spool summaries computed in worker threads: the same JSON as in process, bounded memory, and failures that never stall the message. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSearchKeyList, searchKey } from '@dizi/domain/search-key';
import { BuiltinWorker } from '@dizi/mail-store/adapters/builtin-worker';
import { SharedSlots } from '@dizi/mail-store/shared-slots';
import { summariseMessage } from '@dizi/mime/message-summary';
import { spoolSummary } from '../src/local/message-index';
import { InlineSummaries, type SpoolSummary, type SpoolSummaryJob } from '../src/inbound/spool-summary';
import { SummaryWorkers } from '../src/inbound/summary-workers';

const CRLF = '\r\n';
const lines = (...l: string[]) => l.join(CRLF);

/** Deterministic text of about `bytes` drawn from a vocabulary large enough to give thousands of distinct lexemes. */
function prose(bytes: number, seed = 7): string {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'ze', 'po', 'qua', 'dri', 'xen', 'bo', 'fu'];
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  const out: string[] = [];
  let size = 0;
  let line = '';
  while (size < bytes) {
    let word = '';
    for (let n = 1 + (next() % 4); n > 0; n--) word += syllables[next() % syllables.length];
    if (line.length + word.length > 72) {
      out.push(line);
      size += line.length + 2;
      line = '';
    }
    line += (line ? ' ' : '') + word;
  }
  out.push(line);
  return out.join(CRLF);
}

const base64Lines = (b: Buffer) => b.toString('base64').replace(/.{76}/g, `$&${CRLF}`);

const MESSAGES: Record<string, Buffer> = {
  plain: Buffer.from(lines(
    'From: Alice Example <alice@example.test>',
    'To: bob@example.test, "Carol, C." <carol@example.test>',
    'Cc: dave@example.test',
    'Subject: Quarterly figures',
    'Date: Tue, 04 Mar 2025 10:11:12 +0100',
    'Message-ID: <plain-1@example.test>',
    'In-Reply-To: <earlier@example.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Hello Bob,',
    '',
    'the figures are attached to the next message. Regards, Alice',
    '',
  )),
  multipart: Buffer.from(lines(
    'From: reports@example.test',
    'To: team@example.test',
    'Subject: =?UTF-8?Q?R=C3=A9sum=C3=A9_and_invoice?=',
    'Date: Wed, 05 Mar 2025 08:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    'preamble',
    '--outer',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Caf=C3=A9 invoice, see attachment.',
    '--alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><body><p>Caf&eacute; <b>invoice</b>, see attachment.</p></body></html>',
    '--alt--',
    '--outer',
    'Content-Type: application/pdf; name="invoice 2025.pdf"',
    'Content-Disposition: attachment; filename="invoice 2025.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(Buffer.from('%PDF-1.4 '.repeat(400))),
    '--outer',
    'Content-Type: message/rfc822',
    'Content-Disposition: attachment; filename="forwarded.eml"',
    '',
    'From: inner@example.test',
    'Subject: Inner message',
    '',
    'inner body words',
    '--outer',
    'Content-Type: image/png; name="=?UTF-8?B?5Zu+54mHLnBuZw==?="',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(Buffer.alloc(3000, 0x89)),
    '--outer--',
    '',
  )),
  chinese: Buffer.concat([
    Buffer.from(lines(
      'From: =?UTF-8?B?5byg5LiJ?= <zhang@example.cn>',
      'To: =?UTF-8?B?5p2O5Zub?= <li@example.cn>',
      'Subject: =?UTF-8?B?5Lya6K6u6YCa55+l77ya5piO5aSp5LiL5Y2I5LiJ54K5?=',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(Buffer.from('各位同事：明天下午三点在第二会议室开会，讨论全文检索和邮件投递的性能。请准时参加。\r\n'.repeat(20))),
      '--b',
      'Content-Type: text/plain; charset=gb2312',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '',
    ), 'utf8'),
    // 中文 in GB2312
    Buffer.from('=D6=D0=CE=C4 gb2312\r\n--b--\r\n', 'latin1'),
  ]),
  'text of 300 KB': Buffer.from(lines(
    'From: big@example.test',
    'To: someone@example.test',
    'Subject: a long report',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    prose(300 * 1024),
    '',
  )),
  // NUL in a decoded header word: jsonb refuses \u0000, the JSON drops it.
  'malformed, NUL in a header word': Buffer.from(lines(
    'Subject: =?UTF-8?Q?a=00b?=',
    'From: <broken@',
    'Content-Type: multipart/mixed; boundary="zz"',
    '',
    '--zz',
    'Content-Type: text/plain',
    'Content-Transfer-Encoding: base64',
    '',
    '!!!!@@@@====',
    '--z',
  ), 'latin1'),
  // Past the parser's header limit: read up to it (a degraded summary, issue 11 item 9), the same every way.
  'malformed, oversized header': Buffer.from(`Subject: ${'x'.repeat(2_000_000)}${CRLF}${CRLF}body`, 'latin1'),
};

/** A spool summary as one comparable string: the JSON, then the key list on a line of its own. */
const text = (s: SpoolSummary): string => `${s.json}\n${s.searchKeys}`;

/** What PgSpoolWriter stored before summaries moved to worker threads, computed here in process. */
async function inProcess(raw: Buffer): Promise<string | null> {
  try {
    const { summary, searchKeys } = spoolSummary(await summariseMessage(raw));
    return `${JSON.stringify(summary).replaceAll('\\u0000', '')}\n${searchKeys}`;
  } catch {
    return null;
  }
}

/** Writes `raw` into the job's sink in uneven chunks (splitting lines and CRLFs), honouring backpressure. */
async function feed(job: SpoolSummaryJob, raw: Buffer, seed = 1): Promise<string | null> {
  let x = seed;
  for (let at = 0; at < raw.length;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (x % 40_000);
    const more = job.sink.write(raw.subarray(at, at + n));
    at += n;
    if (!more) await new Promise((r) => job.sink.once('drain', r));
  }
  job.sink.end();
  return job.summary.then(text, () => null);
}

const threadsOf = (pool: SummaryWorkers) => (pool as unknown as { threads: Array<{ worker: { terminate(): Promise<number>; exited: Promise<void> }; ready: boolean }> }).threads;

async function warmed(pool: SummaryWorkers): Promise<void> {
  pool.warm();
  while (!threadsOf(pool).every((t) => t.ready)) await new Promise((r) => setTimeout(r, 20));
}

let pool: SummaryWorkers | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

describe('SummaryWorkers', () => {
  it('produces the JSON the in-process summary does, message by message', async () => {
    // Whole messages in one post (the default batch), and every message streamed in small batches.
    const wholePool = new SummaryWorkers({ size: 2 });
    const streamingPool = new SummaryWorkers({ size: 2, batchBytes: 16 * 1024, maxInFlightBytes: 32 * 1024 });
    const names = Object.keys(MESSAGES);
    let viaWorkers: Array<string | null>;
    let viaStreaming: Array<string | null>;
    try {
      // All at once, so both threads take several messages whose batches interleave.
      viaWorkers = await Promise.all(names.map((n, i) => feed(wholePool.start(), MESSAGES[n], i + 1)));
      viaStreaming = await Promise.all(names.map((n, i) => feed(streamingPool.start(), MESSAGES[n], i + 1)));
      expect(threadsOf(wholePool)).toHaveLength(2);
      expect(threadsOf(streamingPool)).toHaveLength(2);
      // The two ways were taken: the 300 KB message alone is some twenty batches of 16 KB.
      expect(streamingPool.exchanged.posts).toBeGreaterThan(2 * wholePool.exchanged.posts);
    } finally {
      await Promise.all([wholePool.close(), streamingPool.close()]);
    }
    const viaInline = await Promise.all(names.map((n, i) => feed(new InlineSummaries().start(), MESSAGES[n], i + 1)));
    for (const [i, name] of names.entries()) {
      const expected = await inProcess(MESSAGES[name]);
      expect(viaWorkers[i], name).toBe(expected);
      expect(viaStreaming[i], name).toBe(expected);
      expect(viaInline[i], name).toBe(expected);
    }
    // The cases mean what they say.
    expect(await inProcess(MESSAGES['malformed, oversized header'])).toContain('"degraded":"MIME structure beyond the limits');
    expect(await inProcess(MESSAGES['malformed, NUL in a header word'])).not.toBeNull();
    expect(parseSearchKeyList(viaWorkers[names.indexOf('chinese')]!.split('\n')[1])).toContain(searchKey('中文'));
  });

  it('summarises messages lent from shared memory where they lie, one post each with no bytes in it', async () => {
    const names = Object.keys(MESSAGES);
    const slots = new SharedSlots(Math.max(...names.map((n) => MESSAGES[n].length)), 4);
    pool = new SummaryWorkers({ size: 2, shared: slots.memory });
    await warmed(pool);
    const posted = vi.spyOn(BuiltinWorker.prototype, 'post');
    const before = { ...pool.exchanged };
    try {
      // Four at a time, one per slot; each slot is scribbled over as soon as its summary settles.
      const results: Array<string | null> = [];
      for (let i = 0; i < names.length; i += 4) {
        results.push(...await Promise.all(names.slice(i, i + 4).map(async (name) => {
          const bytes = slots.take(MESSAGES[name].length)!;
          bytes.set(MESSAGES[name]);
          try {
            return await pool!.summarise(bytes).then(text, () => null);
          } finally {
            bytes.fill(0x2e);
            slots.give(bytes);
          }
        })));
      }
      for (const [i, name] of names.entries()) expect(results[i], name).toBe(await inProcess(MESSAGES[name]));
      expect(pool.exchanged.posts - before.posts).toBe(names.length);
      for (const [m, transfer] of posted.mock.calls as Array<[{ at?: number; length?: number; chunk?: unknown }, unknown]>) {
        expect(m.chunk).toBeUndefined();
        expect(transfer).toBeUndefined();
        expect(typeof m.length).toBe('number');
      }
      expect(posted).toHaveBeenCalledTimes(names.length);
      // A Buffer of its own goes as a copy, with the same result.
      expect(text(await pool.summarise(Buffer.from(MESSAGES.plain)))).toBe(await inProcess(MESSAGES.plain));
      expect(posted.mock.calls.at(-1)![0]).toHaveProperty('chunk');
    } finally {
      posted.mockRestore();
    }
  });

  it('reports a lost thread to a message lent from shared memory only once the thread has exited', async () => {
    const slots = new SharedSlots(64 * 1024, 1);
    pool = new SummaryWorkers({ size: 1, stallMs: 300, shared: slots.memory, entry: join(__dirname, 'fixtures', 'silent-summary-worker.ts') });
    const bytes = slots.take(MESSAGES.plain.length)!;
    bytes.set(MESSAGES.plain);
    const summary = pool.summarise(bytes);
    const [thread] = threadsOf(pool);
    let exited = false;
    void thread.worker.exited.then(() => (exited = true));
    // The stall gives up on the thread and stops it; the summary fails after that, not when the clock ran out.
    await expect(summary.then(() => exited, (err: Error) => [err.message, exited])).resolves.toEqual([expect.stringMatching(/no progress for 300 ms/), true]);
    slots.give(bytes);
  });

  it('costs one post and one reply for a message up to batchBytes', async () => {
    pool = new SummaryWorkers({ size: 1 });
    await warmed(pool);
    const before = { ...pool.exchanged };
    // In uneven chunks of up to 40 KB, some seven dozen of them.
    const raw = MESSAGES['text of 300 KB'];
    expect(await feed(pool.start(), raw)).toBe(await inProcess(raw));
    expect(pool.exchanged.posts - before.posts).toBe(1);
    expect(pool.exchanged.replies - before.replies).toBe(1);
  });

  it('streams a message bigger than batchBytes, holding a fast writer back once a batch is with its worker', async () => {
    const batchBytes = 128 * 1024;
    const maxInFlightBytes = 256 * 1024;
    pool = new SummaryWorkers({ size: 1, batchBytes, maxInFlightBytes });
    await warmed(pool);
    const raw = Buffer.from(lines('Subject: big', '', prose(4 * 1024 * 1024, 3), ''));
    const job = pool.start();
    const chunk = 64 * 1024;
    // Written in one go, ignoring write()'s answer: whatever the sink did not pass on waits in its own buffer. It
    // passed on at most one batch being gathered and maxInFlightBytes (plus the batch that crossed it) posted.
    for (let at = 0; at < raw.length; at += chunk) job.sink.write(raw.subarray(at, at + chunk));
    expect(job.sink.writableLength).toBeGreaterThanOrEqual(raw.length - batchBytes - maxInFlightBytes);
    // Batches left before the end: the summary is under way.
    expect(pool.exchanged.posts).toBeGreaterThanOrEqual(2);
    job.sink.end();
    expect(text(await job.summary)).toBe(await inProcess(raw));
    // One post per batch, the last with the end; not one per chunk.
    expect(pool.exchanged.posts).toBe(Math.ceil(raw.length / batchBytes));
  });

  it('fails the summaries of a crashed worker, keeps taking their bytes, and starts another', async () => {
    const lost: Error[] = [];
    pool = new SummaryWorkers({ size: 1, onWorkerError: (err) => lost.push(err) });
    const raw = MESSAGES['text of 300 KB'];
    const job = pool.start();
    job.sink.write(raw.subarray(0, 100_000));
    // Started and holding part of the message: end it the hard way.
    while (!(threadsOf(pool)[0] as unknown as { ready: boolean }).ready) await new Promise((r) => setTimeout(r, 20));
    const [first] = threadsOf(pool);
    await first.worker.terminate();
    await expect(job.summary).rejects.toThrow(/exited/);
    expect(lost).toHaveLength(1);
    // The rest of the message is still taken (for the blob side of the tee) and dropped.
    const finished = new Promise((r) => job.sink.once('finish', r));
    job.sink.end(raw.subarray(100_000));
    await finished;

    expect(await feed(pool.start(), MESSAGES.plain)).toBe(await inProcess(MESSAGES.plain));
    expect(threadsOf(pool)).toHaveLength(1);
    expect(threadsOf(pool)[0]).not.toBe(first);
  });

  it('gives up on a worker that owes an answer and says nothing', async () => {
    const lost: Error[] = [];
    pool = new SummaryWorkers({
      size: 1,
      stallMs: 300,
      batchBytes: 32 * 1024,
      maxInFlightBytes: 64 * 1024,
      entry: join(__dirname, 'fixtures', 'silent-summary-worker.ts'),
      onWorkerError: (err) => lost.push(err),
    });
    // Started first: a thread lost before it said it was ready counts as a failed start, after which the pool pauses
    // (on a loaded machine loading the TypeScript hook alone can take longer than the 300 ms stall).
    await warmed(pool);
    const job = pool.start();
    // Well past the in-flight limit: the writer is held until the stall releases it, then drained.
    const raw = MESSAGES['text of 300 KB'];
    const finished = new Promise((r) => job.sink.once('finish', r));
    void feed(job, raw);
    await expect(job.summary).rejects.toThrow(/no progress for 300 ms/);
    await finished;
    expect(lost).toHaveLength(1);
    expect(threadsOf(pool)).toHaveLength(0);
    // A message posted whole, with its end, is owed an answer too.
    const whole = pool.start();
    expect(await feed(whole, MESSAGES.plain)).toBeNull();
    await expect(whole.summary).rejects.toThrow(/no progress for 300 ms/);
    expect(lost).toHaveLength(2);
  });

  it('fails what is in flight when closed, and everything after', async () => {
    pool = new SummaryWorkers({ size: 1 });
    const job = pool.start();
    job.sink.write(MESSAGES.plain.subarray(0, 50));
    await pool.close();
    await expect(job.summary).rejects.toThrow(/closed/);
    const later = pool.start();
    await expect(later.summary).rejects.toThrow(/closed/);
    // Its sink still takes a whole message.
    await feed(later, MESSAGES.plain);
  });

  it('does not keep the process alive once idle', () => {
    const workers = join(__dirname, '..', 'src', 'inbound', 'summary-workers.ts');
    // No close(): the process must end by itself after printing the summary.
    const script = `
      const { SummaryWorkers } = require(${JSON.stringify(workers)});
      const job = new SummaryWorkers({ size: 1 }).start();
      job.summary.then((s) => console.log('summary', JSON.parse(s.json).subject));
      job.sink.end(Buffer.from('Subject: alive?\\r\\n\\r\\nbody\\r\\n'));
    `;
    const root = join(__dirname, '..', '..', '..');
    const child = spawnSync(process.execPath, ['-r', join(root, 'tools', 'register.cjs'), '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('summary alive?');
    expect(child.status).toBe(0);
  });
});
