/**
 * bench:imap over the whole command set: every SEARCH key class, SORT by each key, THREAD, STATUS, LIST with 500
 * folders, STORE/COPY/MOVE/EXPUNGE over 1:*, and POP3 STAT/UIDL/RETR/TOP over every message, on Dizi and Dovecot
 * in turn (command by command, run by run), p50/p95 per command.
 */
import tls from 'node:tls';

export interface Timed {
  ms: number;
  /** What the reply said, to compare the servers (hits, lines). */
  result: string;
}

/** An IMAP connection as run.ts's RawImap offers it. */
export interface ImapLike {
  command(text: string | Buffer, keep?: boolean): Promise<{ ms: number; untagged: string[]; untaggedCount: number; literalBytes: number; tagged: string }>;
  close(): void;
}

export interface BenchServer {
  name: string;
  imap: ImapLike;
  pop3Port: number | null;
}

export interface CommandRow {
  label: string;
  figures: Map<string, { p50: number; p95: number; n: number; result: string }>;
}

export const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
};

function summary(untagged: string[]): string {
  const search = untagged.find((l) => /^\* (SEARCH|SORT)\b/.test(l));
  if (search) return `${search.split(' ').length - 2} hits`;
  const thread = untagged.find((l) => l.startsWith('* THREAD'));
  if (thread) return `${(thread.match(/\(/g) ?? []).length} parens`;
  return `${untagged.length} lines`;
}

/** The read-only commands, each timed RUNS times per server, the servers taking turns. */
export function readCommands(messages: number): string[] {
  const pick = Math.floor(messages / 2);
  return [
    'UID SEARCH FROM "sender7@"',
    'UID SEARCH FROM "Sender 13"',
    'UID SEARCH TO "bench@"',
    'UID SEARCH CC "nobody"',
    'UID SEARCH BCC "nobody"',
    'UID SEARCH SUBJECT "update 1234"',
    'UID SEARCH SUBJECT "周报"',
    `UID SEARCH HEADER Message-ID "<bench-${pick}@remote.example>"`,
    'UID SEARCH HEADER In-Reply-To "bench-10@"',
    'UID SEARCH HEADER References "bench-10@"',
    'UID SEARCH HEADER List-Id "weekly.bench"',
    'UID SEARCH NOT FROM "sender7@"',
    'UID SEARCH OR FROM "sender3@" SUBJECT "update 77"',
    'UID SEARCH FLAGGED',
    'UID SEARCH UNSEEN FROM "sender9@"',
    'UID SEARCH SINCE 20-Dec-2025',
    'UID SEARCH SENTBEFORE 5-Dec-2025',
    'UID SEARCH LARGER 9500',
    `UID SEARCH UID ${pick}:${pick + 100}`,
    'UID SEARCH MODSEQ 2',
    'UID SORT (SUBJECT) UTF-8 ALL',
    'UID SORT (REVERSE DATE) UTF-8 ALL',
    'UID SORT (FROM) UTF-8 ALL',
    'UID SORT (TO) UTF-8 ALL',
    'UID SORT (CC) UTF-8 ALL',
    'UID SORT (SIZE) UTF-8 ALL',
    'UID SORT (ARRIVAL) UTF-8 ALL',
    'UID SORT (DISPLAYFROM) UTF-8 ALL',
    'UID SORT (SUBJECT) UTF-8 FROM "sender7@"',
    'UID THREAD REFERENCES UTF-8 ALL',
    'UID THREAD ORDEREDSUBJECT UTF-8 ALL',
    'STATUS INBOX (MESSAGES UNSEEN UIDNEXT)',
    'LIST "" "*"',
  ];
}

async function timeAll(servers: BenchServer[], label: string, runs: number, rows: CommandRow[], step: (s: BenchServer) => Promise<Timed>): Promise<void> {
  const row: CommandRow = { label, figures: new Map() };
  const times = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  const results = new Map<string, string>();
  for (let r = 0; r < runs; r++) {
    for (const s of servers) {
      const t = await step(s);
      times.get(s.name)!.push(t.ms);
      results.set(s.name, t.result);
    }
  }
  for (const s of servers) {
    const xs = times.get(s.name)!;
    row.figures.set(s.name, { p50: percentile(xs, 0.5), p95: percentile(xs, 0.95), n: xs.length, result: results.get(s.name)! });
  }
  rows.push(row);
}

/** 500 folders on each server, for LIST, plus the targets of COPY and MOVE. */
export async function createFolders(servers: BenchServer[], count: number): Promise<void> {
  for (const s of servers) {
    for (let i = 0; i < count; i++) await s.imap.command(`CREATE "Folder ${String(i).padStart(3, '0')}"`);
    await s.imap.command('CREATE Copies');
    await s.imap.command('CREATE Moved');
  }
}

export async function runCommandSet(servers: BenchServer[], messages: number, runs: number): Promise<CommandRow[]> {
  const rows: CommandRow[] = [];
  for (const s of servers) await s.imap.command('SELECT INBOX');
  for (const command of readCommands(messages)) {
    await timeAll(servers, command, runs, rows, async (s) => {
      const reply = await s.imap.command(command, true);
      return { ms: reply.ms, result: summary(reply.untagged) };
    });
  }
  // STORE over 1:*, reported with FETCH responses (as clients ask) and .SILENT; each run sets, then clears.
  await timeAll(servers, 'UID STORE 1:* +FLAGS (\\Flagged)', runs, rows, async (s) => {
    const set = await s.imap.command('UID STORE 1:* +FLAGS (\\Flagged)');
    await s.imap.command('UID STORE 1:* -FLAGS.SILENT (\\Flagged)');
    return { ms: set.ms, result: `${set.untaggedCount} lines` };
  });
  await timeAll(servers, 'UID STORE 1:* +FLAGS.SILENT (\\Seen)', runs, rows, async (s) => {
    const set = await s.imap.command('UID STORE 1:* +FLAGS.SILENT (\\Seen)');
    await s.imap.command('UID STORE 1:* -FLAGS.SILENT (\\Seen)');
    return { ms: set.ms, result: `${set.untaggedCount} lines` };
  });
  // COPY 1:* into Copies, then EXPUNGE of those copies (all \Deleted) there.
  await timeAll(servers, 'UID COPY 1:* Copies', runs, rows, async (s) => {
    const copy = await s.imap.command('UID COPY 1:* Copies');
    return { ms: copy.ms, result: copy.tagged.includes('COPYUID') ? 'COPYUID' : 'ok' };
  });
  await timeAll(servers, 'EXPUNGE (all of a folder, after STORE +FLAGS.SILENT \\Deleted)', runs, rows, async (s) => {
    await s.imap.command('UID COPY 1:* Copies');
    await s.imap.command('SELECT Copies');
    await s.imap.command('UID STORE 1:* +FLAGS.SILENT (\\Deleted)');
    const expunge = await s.imap.command('EXPUNGE');
    await s.imap.command('SELECT INBOX');
    return { ms: expunge.ms, result: `${expunge.untaggedCount} lines` };
  });
  // MOVE 1:* out and back: both moves timed.
  await timeAll(servers, 'UID MOVE 1:* (to another folder and back)', runs, rows, async (s) => {
    const out = await s.imap.command('UID MOVE 1:* Moved');
    await s.imap.command('SELECT Moved');
    const back = await s.imap.command('UID MOVE 1:* INBOX');
    await s.imap.command('SELECT INBOX');
    return { ms: (out.ms + back.ms) / 2, result: `${out.untaggedCount} lines` };
  });
  return rows;
}

// ------------------------------------------------------------------ POP3

class RawPop3 {
  private buffer: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;

  private constructor(private readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.wake?.();
    });
  }

  static async connect(port: number): Promise<RawPop3> {
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new RawPop3(socket);
    await c.reply(false);
    return c;
  }

  /** One reply: a status line, or a status line and a dot-terminated body; returns its octets. */
  async reply(multi: boolean): Promise<{ status: string; bytes: number }> {
    for (;;) {
      const eol = this.buffer.indexOf('\r\n');
      if (eol >= 0) {
        const status = this.buffer.toString('latin1', 0, eol);
        if (!multi || !status.startsWith('+OK')) {
          this.buffer = this.buffer.subarray(eol + 2);
          return { status, bytes: eol + 2 };
        }
        // The status line's CRLF starts the terminator of an empty body.
        const at = this.buffer.indexOf('\r\n.\r\n', eol);
        const end = at < 0 ? -1 : at + 5;
        if (end >= 0) {
          this.buffer = this.buffer.subarray(end);
          return { status, bytes: end };
        }
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async command(text: string, multi: boolean): Promise<{ ms: number; status: string; bytes: number }> {
    const started = performance.now();
    this.socket.write(`${text}\r\n`);
    const r = await this.reply(multi);
    if (!r.status.startsWith('+OK')) throw new Error(`POP3 ${text}: ${r.status}`);
    return { ms: performance.now() - started, ...r };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** STAT, UIDL, then RETR and TOP n 0 of every message, one after another; the connection ends without QUIT (no UPDATE). */
export async function runPop3(servers: BenchServer[], user: string, password: string, messages: number, runs: number): Promise<CommandRow[]> {
  const rows: CommandRow[] = [];
  const withPop3 = servers.filter((s) => s.pop3Port !== null);
  const timings = new Map<string, Map<string, number[]>>();
  const results = new Map<string, Map<string, string>>();
  const add = (label: string, server: string, ms: number[], result: string) => {
    if (!timings.has(label)) {
      timings.set(label, new Map());
      results.set(label, new Map());
    }
    timings.get(label)!.set(server, [...(timings.get(label)!.get(server) ?? []), ...ms]);
    results.get(label)!.set(server, result);
  };
  for (let r = 0; r < runs; r++) {
    for (const s of withPop3) {
      const loginStarted = performance.now();
      const c = await RawPop3.connect(s.pop3Port!);
      await c.command(`USER ${user}`, false);
      await c.command(`PASS ${password}`, false);
      add('POP3 connect+USER+PASS', s.name, [performance.now() - loginStarted], 'ok');
      const stat = await c.command('STAT', false);
      add('POP3 STAT', s.name, [stat.ms], stat.status);
      const uidl = await c.command('UIDL', true);
      add('POP3 UIDL (all)', s.name, [uidl.ms], `${uidl.bytes} octets`);
      const retr: number[] = [];
      let started = performance.now();
      let bytes = 0;
      for (let i = 1; i <= messages; i++) {
        const x = await c.command(`RETR ${i}`, true);
        retr.push(x.ms);
        bytes += x.bytes;
      }
      add(`POP3 RETR each of ${messages}`, s.name, retr, `${Math.round(messages / ((performance.now() - started) / 1000))} msgs/s, ${(bytes / 1e6).toFixed(0)} MB`);
      const top: number[] = [];
      started = performance.now();
      for (let i = 1; i <= messages; i++) top.push((await c.command(`TOP ${i} 0`, true)).ms);
      add(`POP3 TOP n 0 each of ${messages}`, s.name, top, `${Math.round(messages / ((performance.now() - started) / 1000))} msgs/s`);
      c.close();
    }
  }
  for (const [label, byServer] of timings) {
    const row: CommandRow = { label, figures: new Map() };
    for (const [server, xs] of byServer) {
      row.figures.set(server, { p50: percentile(xs, 0.5), p95: percentile(xs, 0.95), n: xs.length, result: results.get(label)!.get(server)! });
    }
    rows.push(row);
  }
  return rows;
}

export function printRows(title: string, rows: CommandRow[], names: string[]): void {
  const width = 62;
  const cell = 22;
  console.log(`\n${title.padEnd(width)}${names.map((n) => `${n} p50/p95 ms`.padStart(cell)).join('')}   result (${names.join(' / ')})`);
  for (const row of rows) {
    const cells = names.map((n) => {
      const f = row.figures.get(n);
      return (f ? `${f.p50.toFixed(f.p50 < 10 ? 2 : 1)} / ${f.p95.toFixed(f.p95 < 10 ? 2 : 1)}` : '—').padStart(cell);
    });
    const results = names.map((n) => row.figures.get(n)?.result ?? '—').join(' / ');
    console.log(`${row.label.slice(0, width - 1).padEnd(width)}${cells.join('')}   ${results}`);
  }
}
