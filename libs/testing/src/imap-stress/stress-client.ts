/**
 * A state-checking concurrent IMAP client, after Dovecot's imaptest stress mode: N sessions of one account on M
 * folders doing LOGIN, LIST, STATUS, SELECT, FETCH, STORE (keywords included), EXPUNGE, APPEND and COPY at random,
 * each checking every response against the state it has been told: keywords announced by FLAGS before a FETCH shows
 * them, EXISTS never shrinking, EXPUNGE and FETCH only for messages that exist and never where RFC 3501 §7.4.1 forbids
 * EXPUNGE, UIDs ascending with sequence numbers and never changing, no FETCH for an expunged UID, UIDVALIDITY stable,
 * no BAD. Used by the mail node's test (a few seconds) and by `npm run bench:imap-mixed` (beside Dovecot).
 */
import { ImapWire, type CommandReply, type WireOptions, type WireResponse } from './imap-wire';

export const STRESS_COMMANDS = ['LOGIN', 'LIST', 'STATUS', 'SELECT', 'FETCH', 'STORE', 'EXPUNGE', 'APPEND', 'COPY'] as const;
export type StressCommand = (typeof STRESS_COMMANDS)[number];

export interface StressOptions extends Omit<WireOptions, 'timeoutMs'> {
  user: string;
  password: string;
  /** Folders the sessions work in; they must exist. */
  folders: string[];
  sessions: number;
  durationMs: number;
  /** Per command (default 10 s). */
  timeoutMs?: number;
  /** Relative weights of the commands; LOGIN is a LOGOUT followed by a new connection. */
  weights?: Partial<Record<StressCommand, number>>;
  /** Keywords STORE and APPEND choose from; new ones keep appearing while the run lasts (default 40). */
  keywordPool?: number;
  /** Deterministic runs for a test (default: Math.random). */
  random?: () => number;
  /** Stop at the first violation (a test wants the first; a benchmark wants them all). */
  stopOnViolation?: boolean;
}

export interface Violation {
  session: number;
  command: string;
  problem: string;
  response: string;
}

export interface CommandStats {
  count: number;
  no: number;
  /** Milliseconds per command, in the order they ran. */
  latencies: number[];
}

export interface StressReport {
  elapsedMs: number;
  commands: Record<StressCommand, CommandStats>;
  violations: Violation[];
  /** Sessions that ended on an error (timeout, closed connection) rather than at the deadline. */
  errors: string[];
}

const DEFAULT_WEIGHTS: Record<StressCommand, number> = {
  LOGIN: 2, LIST: 4, STATUS: 6, SELECT: 6, FETCH: 30, STORE: 20, EXPUNGE: 5, APPEND: 15, COPY: 6,
};
const SYSTEM_FLAGS = new Set(['\\seen', '\\answered', '\\flagged', '\\deleted', '\\draft', '\\recent']);
const STORE_SYSTEM = ['\\Seen', '\\Answered', '\\Flagged', '\\Draft'];

/** What one session was told about its selected folder. */
interface View {
  folder: string;
  /** UID per sequence number (index = seq - 1); 0 while the client has not been told it. */
  uids: number[];
  /** Keywords and flags announced by FLAGS, lower case. */
  flags: Set<string>;
  expunged: Set<number>;
}

/** Shared by the sessions of a run: figures, violations and what every session must agree on. */
class Run {
  readonly commands = Object.fromEntries(STRESS_COMMANDS.map((c) => [c, { count: 0, no: 0, latencies: [] as number[] }])) as Record<StressCommand, CommandStats>;
  readonly violations: Violation[] = [];
  readonly errors: string[] = [];
  readonly uidValidity = new Map<string, string>();
  stop = false;
  constructor(readonly options: StressOptions, readonly deadline: number) {}
  violation(v: Violation): void {
    this.violations.push(v);
    if (this.options.stopOnViolation) this.stop = true;
  }
}

class StressSession {
  private wire: ImapWire | null = null;
  private view: View | null = null;
  private appended = 0;
  private readonly rand: () => number;

  constructor(private readonly run: Run, private readonly id: number) {
    this.rand = run.options.random ?? Math.random;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)];
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }

  private keyword(): string {
    const pool = this.run.options.keywordPool ?? 40;
    // Low numbers most of the time, so the set of keywords keeps growing slowly for the whole run.
    const n = Math.floor(pool * this.rand() * this.rand());
    return n < 5 ? `$Label${n + 1}` : `kw${n}`;
  }

  async loop(): Promise<void> {
    const { options } = this.run;
    const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
    const total = STRESS_COMMANDS.reduce((n, c) => n + weights[c], 0);
    try {
      await this.login();
      // Every kind with a weight once first, in a random order: a short run on a slow machine still covers them all.
      const first = STRESS_COMMANDS.filter((c) => c !== 'LOGIN' && weights[c] > 0).sort(() => this.rand() - 0.5);
      while (!this.run.stop && (first.length > 0 || Date.now() < this.run.deadline)) {
        let kind: StressCommand = 'FETCH';
        const next = first.shift();
        if (next) kind = next;
        else {
          let r = this.rand() * total;
          for (const c of STRESS_COMMANDS) {
            r -= weights[c];
            if (r < 0) {
              kind = c;
              break;
            }
          }
        }
        await this.perform(kind);
      }
      await this.wire?.command('LOGOUT').catch(() => undefined);
    } catch (err) {
      if (!this.run.stop) this.run.errors.push(`session ${this.id}: ${(err as Error).message}`);
    } finally {
      this.wire?.close();
    }
  }

  private async login(): Promise<void> {
    const { options } = this.run;
    const started = performance.now();
    const { wire } = await ImapWire.connect({ host: options.host, port: options.port, tls: options.tls, timeoutMs: options.timeoutMs ?? 10_000 });
    this.wire = wire;
    const quoted = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
    const reply = await wire.command(`LOGIN ${quoted(options.user)} ${quoted(options.password)}`);
    this.account('LOGIN', started, reply, true);
    if (reply.status !== 'OK') throw new Error(`LOGIN failed: ${reply.text}`);
    this.view = null;
    await this.select(this.pick(options.folders));
  }

  private async perform(kind: StressCommand): Promise<void> {
    const view = this.view;
    const count = view?.uids.length ?? 0;
    if ((kind === 'FETCH' || kind === 'STORE' || kind === 'COPY' || kind === 'EXPUNGE') && count === 0) kind = 'APPEND';
    switch (kind) {
      case 'LOGIN':
        await this.wire!.command('LOGOUT').catch(() => undefined);
        this.wire!.close();
        await this.login();
        return;
      case 'LIST':
        await this.send('LIST', 'LIST "" "*"', true);
        return;
      case 'STATUS':
        await this.send('STATUS', `STATUS "${this.pick(this.run.options.folders)}" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)`, true);
        return;
      case 'SELECT':
        await this.select(this.pick(this.run.options.folders));
        return;
      case 'FETCH': {
        const items = this.pick(['(UID FLAGS)', '(FLAGS)', '(UID FLAGS RFC822.SIZE INTERNALDATE)', '(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])', '(FLAGS ENVELOPE)']);
        const uidMode = this.rand() < 0.3 && view!.uids.some((u) => u > 0);
        if (uidMode) {
          const known = view!.uids.filter((u) => u > 0);
          const a = this.pick(known);
          await this.send('FETCH', `UID FETCH ${a}:${a + this.int(0, 20)} ${items}`, false);
        } else {
          const a = this.int(1, count);
          await this.send('FETCH', `FETCH ${a}:${Math.min(count, a + this.int(0, 20))} ${items}`, false, true);
        }
        return;
      }
      case 'STORE': {
        const a = this.int(1, count);
        const b = Math.min(count, a + this.int(0, 5));
        const flags = Array.from({ length: this.int(1, 3) }, () => (this.rand() < 0.4 ? this.pick(STORE_SYSTEM) : this.keyword()));
        const mode = this.pick(['+FLAGS', '+FLAGS', '-FLAGS', 'FLAGS', '+FLAGS.SILENT']);
        await this.send('STORE', `STORE ${a}:${b} ${mode} (${[...new Set(flags)].join(' ')})`, false, true);
        return;
      }
      case 'EXPUNGE': {
        const a = this.int(1, count);
        await this.send('STORE', `STORE ${a} +FLAGS.SILENT (\\Deleted)`, false, true);
        await this.send('EXPUNGE', 'EXPUNGE', true);
        return;
      }
      case 'APPEND': {
        const folder = this.rand() < 0.6 && view ? view.folder : this.pick(this.run.options.folders);
        const flags = Array.from({ length: this.int(0, 3) }, () => (this.rand() < 0.3 ? this.pick(STORE_SYSTEM) : this.keyword()));
        const n = ++this.appended;
        const body = Buffer.from(
          `From: stress${this.id}@example.test\r\nTo: box@example.test\r\nSubject: stress ${this.id}.${n}\r\n` +
          `Message-ID: <s${this.id}.${n}.${Date.now()}@example.test>\r\n\r\n${'Some text of the message body. '.repeat(this.int(1, 40))}\r\n`,
        );
        await this.send('APPEND', `APPEND "${folder}" (${[...new Set(flags)].join(' ')})`, true, false, body);
        return;
      }
      case 'COPY': {
        const a = this.int(1, count);
        await this.send('COPY', `COPY ${a}:${Math.min(count, a + this.int(0, 3))} "${this.pick(this.run.options.folders)}"`, true, false, undefined, true);
        return;
      }
    }
  }

  private async select(folder: string): Promise<void> {
    this.view = { folder, uids: [], flags: new Set(), expunged: new Set() };
    await this.send('SELECT', `SELECT "${folder}"`, true);
  }

  private account(kind: StressCommand, started: number, reply: CommandReply, mustSucceed: boolean): void {
    const stats = this.run.commands[kind];
    stats.count++;
    stats.latencies.push(performance.now() - started);
    if (reply.status === 'NO') stats.no++;
    if (reply.status === 'BAD' || (mustSucceed && reply.status === 'NO')) {
      this.run.violation({ session: this.id, command: kind, problem: `tagged ${reply.status}`, response: reply.text });
    }
  }

  /**
   * Runs a command and checks its responses in order. `forbidsExpunge`: a sequence-number FETCH or STORE, during
   * which no EXPUNGE may come (RFC 3501 §7.4.1). `mayFailExpunged`: NO is fine when another session expunged the
   * messages meanwhile.
   */
  private async send(kind: StressCommand, line: string, mustSucceed: boolean, forbidsExpunge = false, literal?: Buffer, mayFailExpunged = false): Promise<void> {
    const started = performance.now();
    const reply = await this.wire!.command(line, literal);
    this.account(kind, started, reply, mustSucceed && !mayFailExpunged);
    for (const r of reply.untagged) this.check(kind, line, r, forbidsExpunge);
  }

  private fail(command: string, problem: string, response: WireResponse): void {
    this.run.violation({ session: this.id, command, problem, response: response.text.slice(0, 300) });
  }

  private check(kind: StressCommand, line: string, r: WireResponse, forbidsExpunge: boolean): void {
    const view = this.view;
    const text = r.text;
    const command = line.slice(0, 60);
    if (/^\* BAD/.test(text)) return this.fail(command, 'untagged BAD', r);
    let m = /^\* FLAGS \((.*)\)$/.exec(text);
    if (m) {
      if (view) view.flags = new Set(m[1].split(' ').filter(Boolean).map((f) => f.toLowerCase()));
      return;
    }
    m = /^\* OK \[UIDVALIDITY (\d+)\]/.exec(text);
    if (m && view) {
      const before = this.run.uidValidity.get(view.folder);
      if (before === undefined) this.run.uidValidity.set(view.folder, m[1]);
      else if (before !== m[1]) this.fail(command, `UIDVALIDITY of ${view.folder} changed from ${before} to ${m[1]}`, r);
      return;
    }
    m = /^\* STATUS .*UIDVALIDITY (\d+)/.exec(text);
    if (m) {
      const folder = /^\* STATUS "?([^"(]+?)"? \(/.exec(text)?.[1];
      const before = folder ? this.run.uidValidity.get(folder) : undefined;
      if (folder && before === undefined) this.run.uidValidity.set(folder, m[1]);
      else if (folder && before !== m[1]) this.fail(command, `UIDVALIDITY of ${folder} changed from ${before} to ${m[1]}`, r);
      return;
    }
    m = /^\* (\d+) (EXISTS|RECENT|EXPUNGE|FETCH)\b ?(.*)$/s.exec(text);
    if (!m || !view) return;
    const n = Number(m[1]);
    switch (m[2]) {
      case 'EXISTS':
        if (n < view.uids.length) return this.fail(command, `EXISTS ${n} after ${view.uids.length} without EXPUNGE`, r);
        while (view.uids.length < n) view.uids.push(0);
        return;
      case 'RECENT':
        if (n > view.uids.length) this.fail(command, `RECENT ${n} above EXISTS ${view.uids.length}`, r);
        return;
      case 'EXPUNGE': {
        if (forbidsExpunge) this.fail(command, 'EXPUNGE during a sequence-number FETCH/STORE (RFC 3501 §7.4.1)', r);
        if (n < 1 || n > view.uids.length) return this.fail(command, `EXPUNGE ${n} with EXISTS ${view.uids.length}`, r);
        const [uid] = view.uids.splice(n - 1, 1);
        if (uid > 0) view.expunged.add(uid);
        return;
      }
      case 'FETCH':
        return this.checkFetch(command, n, m[3], r, view);
    }
  }

  private checkFetch(command: string, seq: number, data: string, r: WireResponse, view: View): void {
    if (seq < 1 || seq > view.uids.length) return this.fail(command, `FETCH for message ${seq} with EXISTS ${view.uids.length}`, r);
    const uidMatch = /(?:^\(|\s)UID (\d+)/.exec(data);
    if (uidMatch) {
      const uid = Number(uidMatch[1]);
      if (view.expunged.has(uid)) this.fail(command, `FETCH for UID ${uid}, expunged before`, r);
      const known = view.uids[seq - 1];
      if (known > 0 && known !== uid) this.fail(command, `message ${seq} was UID ${known}, now UID ${uid}`, r);
      let before = 0;
      for (let i = seq - 2; i >= 0; i--) if (view.uids[i] > 0) { before = view.uids[i]; break; }
      let after = Infinity;
      for (let i = seq; i < view.uids.length; i++) if (view.uids[i] > 0) { after = view.uids[i]; break; }
      if (!(uid > before && uid < after)) this.fail(command, `UID ${uid} of message ${seq} not between its neighbours' ${before} and ${after}`, r);
      view.uids[seq - 1] = uid;
    }
    const flags = /(?:^\(|\s)FLAGS \(([^)]*)\)/.exec(data);
    if (flags) {
      for (const f of flags[1].split(' ').filter(Boolean)) {
        const lower = f.toLowerCase();
        if (lower.startsWith('\\')) {
          if (!SYSTEM_FLAGS.has(lower)) this.fail(command, `unknown system flag ${f}`, r);
        } else if (!view.flags.has(lower)) {
          this.fail(command, `keyword ${f} in FETCH before FLAGS announced it`, r);
        }
      }
    }
  }
}

/** Runs the sessions until the duration is over; the report lists every violation found. */
export async function runImapStress(options: StressOptions): Promise<StressReport> {
  const started = performance.now();
  const run = new Run(options, Date.now() + options.durationMs);
  await Promise.all(Array.from({ length: options.sessions }, (_, i) => new StressSession(run, i + 1).loop()));
  return { elapsedMs: performance.now() - started, commands: run.commands, violations: run.violations, errors: run.errors };
}

/** p-th percentile (0–100) of a list of milliseconds. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One line per command kind: count, per second, NO answers, p50/p95. */
export function formatStressReport(label: string, report: StressReport): string {
  const seconds = report.elapsedMs / 1000;
  const lines = [`${label}: ${seconds.toFixed(1)} s, ${report.violations.length} violations, ${report.errors.length} session errors`];
  for (const c of STRESS_COMMANDS) {
    const s = report.commands[c];
    lines.push(`  ${c.padEnd(8)} ${String(s.count).padStart(7)}  ${(s.count / seconds).toFixed(1).padStart(8)}/s  NO ${String(s.no).padStart(5)}  p50 ${percentile(s.latencies, 50).toFixed(1).padStart(7)} ms  p95 ${percentile(s.latencies, 95).toFixed(1).padStart(7)} ms`);
  }
  return lines.join('\n');
}
