/**
 * Runs Dovecot ImapTest scripted tests (../shared/imaptest/tests) against an IMAP server on a TCP port, with the
 * semantics of imaptest's src/test-parser.c and src/test-exec.c: command groups, expected untagged replies with
 * `$variables`, `$!` list directives, default directives for FETCH/STATUS/LIST, and prefix matching of OK/NO/BAD.
 */
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { argsToString, astring, parseArgs, type Arg } from './imap-args';

type Existence = 'must' | 'mustnot' | 'may';

interface ScriptCommand {
  line: number;
  text: string;
  /** null: "" (any reply) */
  reply: Arg[] | null;
  tag: number;
}

interface Group {
  connection: number;
  commands: ScriptCommand[];
  untagged: Array<{ args: Arg[]; existence: Existence }>;
  ordered: boolean;
  sleepMs: number;
  pending: number;
  hasBye: boolean;
}

export interface Script {
  name: string;
  capabilities: string[];
  connections: number;
  messages: number;
  state: 'nonauth' | 'auth' | 'created' | 'appended' | 'selected';
  ignoreExtraUntagged: boolean;
  groups: Group[];
  mbox: string;
}

// ------------------------------------------------------------------ script parsing

function parseLine(text: string): Arg[] {
  return parseArgs(text);
}

function isDirective(a: Arg | undefined): boolean {
  return !!a && a.type === 'atom' && a.value.startsWith('$!');
}

/** test_add_default_directives of test-parser.c. */
function addDefaults(args: Arg[], reply: string, path: Array<{ idx: number; prevAtom: string | null; chain: number }>): void {
  const hasDirective = isDirective(args[0]);
  const depth = path.length;
  if (!hasDirective && depth > 0) {
    const me = path[depth - 1];
    const add = (...d: string[]) => args.unshift(...d.map((value) => ({ type: 'atom' as const, value })));
    if (reply === 'list' || reply === 'lsub') {
      if (depth === 1 && me.idx === 1) add('$!unordered');
    } else if (reply === 'status') {
      if (depth === 1 && me.idx === 2) add('$!unordered=2');
    } else if (reply === 'fetch') {
      if (depth === 1 && me.idx === 2) add('$!unordered=2');
      else if (depth === 2 && path[0].idx === 2 && me.prevAtom === 'flags') {
        add('$!ignore=$HasNoAttachment', '$!ignore=$HasAttachment', '$!ignore=\\recent', '$!noextra', '$!unordered');
      }
    }
  }
  let chain = 1;
  for (const a of args) {
    if (!isDirective(a)) break;
    const m = /^\$!unordered=(\d+)$/.exec((a as { value: string }).value);
    if (m) chain = Number(m[1]);
  }
  let prevAtom: string | null = null;
  let i = 0;
  for (const a of args) {
    if (isDirective(a)) continue;
    if (a.type === 'atom') prevAtom = a.value.toLowerCase();
    if (a.type === 'list') addDefaults(a.items, reply, [...path, { idx: chain === 1 ? i : i % chain, prevAtom, chain }]);
    i++;
  }
}

function untaggedArgs(text: string): Arg[] {
  const args = parseLine(text);
  let reply = astring(args[0]) ?? '';
  if (args[0]?.type === 'atom' && (reply.startsWith('$') || /^\d/.test(reply))) reply = astring(args[1]) ?? '';
  addDefaultsTop(args, reply.toLowerCase());
  return args;
}

function addDefaultsTop(args: Arg[], reply: string): void {
  let i = 0;
  let prevAtom: string | null = null;
  for (const a of args) {
    if (a.type === 'atom') prevAtom = a.value.toLowerCase();
    if (a.type === 'list') addDefaults(a.items, reply, [{ idx: i, prevAtom, chain: 1 }]);
    i++;
  }
}

function replyOf(text: string): { reply: Arg[] | null | undefined; rest: string; tag: number } {
  let rest = text;
  let tag = 0;
  const t = /^tag(\d+) /i.exec(rest);
  if (t) {
    tag = Number(t[1]);
    rest = rest.slice(t[0].length);
  }
  const m = /^(ok|no|bad|"")(?: |$)/i.exec(rest);
  if (!m) return { reply: undefined, rest, tag };
  const word = m[1].toLowerCase();
  rest = rest.slice(m[0].length);
  return { reply: word === '""' ? null : [{ type: 'atom', value: word }], rest, tag };
}

export function parseScript(path: string, dir: string): Script {
  const name = path.split('/').pop()!;
  const raw = readFileSync(path, 'latin1');
  const script: Script = {
    name, capabilities: [], connections: 1, messages: 0, state: 'selected', ignoreExtraUntagged: true, groups: [],
    mbox: existsSync(`${path}.mbox`) ? `${path}.mbox` : join(dir, 'default.mbox'),
  };
  const lines = raw.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let header = true;
  let group: Group | null = null;
  let multiline: string | null = null;
  let startPos = 0;
  let lastLineEnd = 0;
  let startLine = 0;
  let binary = false;
  const skipStack: boolean[] = [];
  let skip = false;

  const handle = (lineNo: number, line: string) => {
    if (header) {
      const colon = line.indexOf(':');
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === 'capabilities') script.capabilities = value.split(/\s+/).filter(Boolean);
      else if (key === 'connections') script.connections = Number(value);
      else if (key === 'messages') script.messages = value === 'all' ? Infinity : Number(value);
      else if (key === 'state') script.state = value.toLowerCase() as Script['state'];
      else if (key === 'ignore_extra_untagged') script.ignoreExtraUntagged = value.startsWith('y');
      else if (key.startsWith('user ')) script.capabilities.push('X-NEEDS-USER2');
      return;
    }
    if (/^!ifenv |^!ifnenv /.test(line)) {
      skipStack.push(skip);
      // No environment variables are set in this runner: !ifenv skips, !ifnenv runs.
      if (line.startsWith('!ifenv ')) skip = true;
      return;
    }
    if (line === '!else') {
      const outer = skipStack[skipStack.length - 1];
      if (!outer) skip = !skip;
      return;
    }
    if (line === '!endif') {
      skip = skipStack.pop() ?? false;
      return;
    }
    if (skip) return;
    if (group) {
      const sleep = /^!sleep (\d+)/.exec(line);
      if (sleep) {
        group.sleepMs = Number(sleep[1]) * (/ms/.test(line) ? 1 : 1000);
        return;
      }
      if (line.startsWith('!output ')) return;
      if (line === '!ordered') {
        group.ordered = true;
        return;
      }
      const ex = /^([*!?]) /.exec(line);
      if (ex) {
        group.untagged.push({ args: untaggedArgs(line.slice(2)), existence: ex[1] === '*' ? 'must' : ex[1] === '!' ? 'mustnot' : 'may' });
        return;
      }
      if (group.pending > 0) {
        let noConn = line;
        if (script.connections > 1) {
          const c = /^(\d+) /.exec(line);
          if (c) noConn = line.slice(c[0].length);
        }
        const r = replyOf(noConn);
        if (r.reply !== undefined) {
          const cmd = group.commands.find((c) => c.tag === r.tag && c.reply === undefined as unknown);
          const target = cmd ?? group.commands.find((c) => c.tag === r.tag);
          if (!target) throw new Error(`${name} line ${lineNo}: reply for unknown tag`);
          target.reply = r.reply === null ? null : [...r.reply, ...parseLine(r.rest)];
          group.pending--;
          return;
        }
      }
    }
    if (!group || group.pending === 0) {
      group = { connection: 0, commands: [], untagged: [], ordered: false, sleepMs: 0, pending: 0, hasBye: false };
      script.groups.push(group);
    }
    let text = line;
    if (script.connections > 1) {
      const c = /^(\d+)(?: |$)/.exec(text);
      if (!c) throw new Error(`${name} line ${lineNo}: missing client index`);
      group.connection = Number(c[1]) - 1;
      text = text.slice(c[0].length);
    }
    const r = replyOf(text);
    const cmd: ScriptCommand = { line: lineNo, text: r.rest, reply: null, tag: r.tag };
    if (r.reply === undefined) {
      (cmd as { reply: Arg[] | null | undefined }).reply = undefined;
      group.pending++;
    } else {
      cmd.reply = r.reply === null ? null : [...r.reply];
    }
    if (group.commands.length === 0 && /^[*!?] /.test(cmd.text)) {
      // A banner check: not supported by this runner; treat as a no-op group.
      return;
    }
    group.commands.push(cmd);
  };

  lines.forEach((line0, idx) => {
    const lineNo = idx + 1;
    const line = line0;
    if (multiline !== null) {
      if (!line.startsWith('}}}')) {
        multiline += line;
        lastLineEnd = multiline.length;
        // test-parser.c: a binary literal's lines end in a bare LF (a CR, if wanted, is part of the line).
        multiline += binary ? '\n' : '\r\n';
        return;
      }
      multiline = multiline.slice(0, lastLineEnd);
      const body = multiline.slice(startPos);
      multiline = multiline.slice(0, startPos) + `${binary ? '~' : ''}{${Buffer.byteLength(body, 'latin1')}}\r\n` + body;
      let tail = line.slice(3);
      if (tail.endsWith('{{{')) {
        binary = tail.endsWith('~{{{');
        tail = tail.slice(0, tail.length - (binary ? 4 : 3));
        multiline += tail;
        startPos = lastLineEnd = multiline.length;
        return;
      }
      const full = multiline + tail;
      multiline = null;
      handle(startLine, full);
      return;
    }
    startLine = lineNo;
    if (line === '') {
      header = false;
      return;
    }
    if (line.startsWith('#')) return;
    if (line.endsWith('{{{')) {
      binary = line.endsWith('~{{{');
      multiline = line.slice(0, line.length - (binary ? 4 : 3));
      startPos = lastLineEnd = multiline.length;
      return;
    }
    handle(lineNo, line);
  });
  // Replies given on the command line stay; an explicit later reply replaced `undefined`.
  for (const g of script.groups) for (const c of g.commands) if ((c.reply as unknown) === undefined) throw new Error(`${name}: missing reply for line ${c.line}`);
  const hasLogout = script.groups.some((g) => g.commands.some((c) => c.text.toLowerCase() === 'logout'));
  if (!hasLogout) script.groups.push({ connection: 0, commands: [{ line: 0, text: 'logout', reply: [{ type: 'atom', value: 'ok' }], tag: 0 }], untagged: [], ordered: false, sleepMs: 0, pending: 0, hasBye: false });
  for (const g of script.groups) g.hasBye = g.untagged.some((u) => u.existence === 'must' && /^bye$/i.test(astring(u.args[0]) ?? ''));
  return script;
}

// ------------------------------------------------------------------ mbox

export interface MboxMessage {
  body: Buffer;
  date: Date;
  /** the From line's zone, in minutes east of UTC */
  tzMinutes: number;
}

export function readMbox(path: string): MboxMessage[] {
  const text = readFileSync(path, 'latin1');
  const out: MboxMessage[] = [];
  const parts = text.split(/^(?=From [^\n]*\n)/m).filter((p) => p.startsWith('From '));
  for (const part of parts) {
    const nl = part.indexOf('\n');
    const fromLine = part.slice(0, nl);
    const body = part.slice(nl + 1);
    const crlf = body.replace(/\r?\n/g, '\r\n');
    const m = /From \S+\s+(.*)$/.exec(fromLine);
    // mbox_from_parse: a trailing numeric zone applies; without one the time is taken as UTC here.
    const when = m ? m[1].trim() : '';
    const zone = /\s([+-])(\d\d)(\d\d)$/.exec(when);
    const tzMinutes = zone ? (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3])) : 0;
    const date = m ? new Date((zone ? when.slice(0, zone.index) : when) + ' UTC') : new Date();
    const valid = !Number.isNaN(date.getTime());
    out.push({ body: Buffer.from(crlf, 'latin1'), date: valid ? new Date(date.getTime() - tzMinutes * 60_000) : new Date(0), tzMinutes: valid ? tzMinutes : 0 });
  }
  return out;
}

function appendDate(message: MboxMessage): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  const tz = message.tzMinutes;
  const d = new Date(message.date.getTime() + tz * 60_000);
  const zone = `${tz < 0 ? '-' : '+'}${p(Math.floor(Math.abs(tz) / 60))}${p(Math.abs(tz) % 60)}`;
  return `"${p(d.getUTCDate())}-${months[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${zone}"`;
}

// ------------------------------------------------------------------ client

interface Response {
  kind: 'untagged' | 'tagged' | 'cont';
  tag?: string;
  args: Arg[];
  text: string;
}

class Client {
  private buf = Buffer.alloc(0);
  private queue: Response[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  exists = 0;
  capabilities: string[] = [];
  private counter = 0;

  constructor(private readonly socket: net.Socket, readonly id: number) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.parse();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, id: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Client(s, id)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  private parse(): void {
    for (;;) {
      // A response ends at CRLF not inside a literal.
      let pos = 0;
      let end = -1;
      for (;;) {
        const nl = this.buf.indexOf('\r\n', pos);
        if (nl < 0) break;
        const m = /~?\{(\d+)\+?\}$/.exec(this.buf.subarray(Math.max(pos, nl - 30), nl).toString('latin1'));
        if (m) {
          pos = nl + 2 + Number(m[1]);
          if (pos > this.buf.length) break;
          continue;
        }
        end = nl;
        break;
      }
      if (end < 0) return;
      const text = this.buf.subarray(0, end).toString('latin1');
      this.buf = this.buf.subarray(end + 2);
      let resp: Response;
      if (text.startsWith('* ')) {
        resp = { kind: 'untagged', args: parseArgs(text.slice(2)), text };
        const a0 = astring(resp.args[0]);
        const a1 = astring(resp.args[1])?.toUpperCase();
        if (a0 && /^\d+$/.test(a0) && a1 === 'EXISTS') this.exists = Number(a0);
        if (a0?.toUpperCase() === 'CAPABILITY') this.capabilities = resp.args.slice(1).map((a) => astring(a) ?? '');
      } else if (text.startsWith('+')) resp = { kind: 'cont', args: [], text };
      else {
        const sp = text.indexOf(' ');
        resp = { kind: 'tagged', tag: text.slice(0, sp), args: parseArgs(text.slice(sp + 1)), text };
        const code = /\[CAPABILITY ([^\]]*)\]/i.exec(text);
        if (code) this.capabilities = code[1].split(' ');
      }
      this.queue.push(resp);
      this.wake();
    }
  }

  async next(timeoutMs = 10_000): Promise<Response | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.queue.shift()!;
  }

  nextTag(): string {
    return `${this.id}.${++this.counter}`;
  }

  write(data: Buffer | string): void {
    this.socket.write(data);
  }

  /** Sends a command line; synchronising literals become LITERAL+ ones so the whole command goes at once. */
  send(tag: string, command: string): void {
    const withPlus = command.replace(/(~?\{\d+)\}\r\n/g, '$1+}\r\n');
    this.write(Buffer.from(`${tag} ${withPlus}\r\n`, 'latin1'));
  }

  /** Sends and collects until the tagged reply; untagged replies are returned too. */
  async run(command: string | Buffer): Promise<{ tagged: Response | null; untagged: Response[] }> {
    const tag = this.nextTag();
    if (typeof command === 'string') this.send(tag, command);
    else this.write(Buffer.concat([Buffer.from(`${tag} `), command, Buffer.from('\r\n')]));
    const untagged: Response[] = [];
    for (;;) {
      const r = await this.next();
      if (!r) return { tagged: null, untagged };
      if (r.kind === 'tagged' && r.tag === tag) return { tagged: r, untagged };
      if (r.kind === 'untagged') untagged.push(r);
    }
  }

  async append(mailbox: string, message: MboxMessage, extra = ''): Promise<Response | null> {
    const cmd = Buffer.concat([
      Buffer.from(`APPEND ${mailbox}${extra ? ' ' + extra : ''} ${extra ? '' : appendDate(message) + ' '}{${message.body.length}+}\r\n`, 'latin1'),
      message.body,
    ]);
    return (await this.run(cmd)).tagged;
  }

  close(): void {
    this.socket.destroy();
  }
}

// ------------------------------------------------------------------ matching (test-exec.c)

const IS_VAR = /[A-Za-z0-9_]/;

/** test-exec.c compares strings as C strings: a literal (literal8 may hold NUL) counts up to its first NUL. */
function cString(value: string): string {
  const nul = value.indexOf('\0');
  return nul < 0 ? value : value.slice(0, nul);
}

class Matcher {
  vars = new Map<string, string>();
  added: string[] = [];
  seqmap: number[] = [];

  relativeSeq(n: number): string {
    if (n === 0) return '<zero seq>';
    if (n > this.seqmap.length) return '<out of range>';
    if (this.seqmap[n - 1] === 0) return '<expunged>';
    return String(this.seqmap[n - 1]);
  }

  expandAll(line: string): string {
    let out = '';
    let i = 0;
    while (i < line.length) {
      const c = line[i];
      if (c !== '$' || i === line.length - 1) {
        out += c;
        i++;
        continue;
      }
      i++;
      if (line[i] === '$') {
        out += '$';
        i++;
      } else if (line[i] === '!') {
        while (i + 1 < line.length && line[i + 1] !== ' ') i++;
        i++;
      } else {
        let name: string;
        if (line[i] === '{') {
          const end = line.indexOf('}', i);
          name = line.slice(i + 1, end);
          i = end + 1;
        } else {
          let j = i;
          while (j < line.length && IS_VAR.test(line[j])) j++;
          name = line.slice(i, j);
          i = j;
        }
        if (/^\d+$/.test(name)) out += this.relativeSeq(Number(name));
        else {
          const v = this.vars.get(name);
          if (v === undefined) throw new Error(`Uninitialized variable: ${name}`);
          out += v;
        }
      }
    }
    return out;
  }

  /** test_expand_input: returns the expanded pattern or null on mismatch; unknown variables are bound. */
  expandInput(pattern: string, input: string): { out: string; icase: boolean } | null {
    let icase = true;
    let out = '';
    let s = 0;
    let inp = 0;
    while (s < pattern.length) {
      if (pattern[s] !== '$' || pattern[s + 1] === '$') {
        if (pattern[s] === '$') s++;
        if ((pattern[s] ?? '').toUpperCase() !== (input[inp] ?? '').toUpperCase()) return null;
        inp++;
        out += pattern[s++];
        continue;
      }
      s++;
      let name: string;
      if (pattern[s] === '{') {
        const end = pattern.indexOf('}', s + 1);
        if (end < 0) return { out: '', icase };
        name = pattern.slice(s + 1, end);
        s = end + 1;
      } else {
        let j = s;
        while (j < pattern.length && IS_VAR.test(pattern[j])) j++;
        name = pattern.slice(s, j);
        s = j;
      }
      let value: string | undefined;
      if (/^\d+$/.test(name)) value = this.relativeSeq(Number(name));
      else if (name.startsWith('case:')) {
        icase = false;
        value = '';
      } else {
        value = name === '' ? undefined : this.vars.get(name);
        if (value === undefined) {
          let rest = pattern.slice(s);
          let restIcase = true;
          if (rest.startsWith('$')) {
            const sub = this.expandInput(rest, input.slice(inp));
            rest = sub ? sub.out : '';
            restIcase = sub ? sub.icase : true;
          }
          let p = inp;
          const first = rest[0] ?? '';
          if (first === '') p = input.length;
          else if (restIcase) while (p < input.length && input[p].toUpperCase() !== first.toUpperCase()) p++;
          else while (p < input.length && input[p] !== first) p++;
          value = input.slice(inp, p);
          if (name !== '') {
            this.vars.set(name, value);
            this.added.push(name);
          }
        }
      }
      out += value;
      for (const ch of value) {
        if (input[inp] !== ch) return null;
        inp++;
      }
    }
    return { out, icase };
  }

  matchList(match: Arg[], args: Arg[]): number {
    let unordered = false;
    let chain = 1;
    let noextra = -1;
    const ignores: string[] = [];
    const bans: string[] = [];
    let k = 0;
    for (; k < match.length; k++) {
      const m = match[k];
      if (m.type !== 'atom' || !m.value.startsWith('$!')) break;
      const d = m.value.slice(2);
      if (d.startsWith('unordered')) {
        unordered = true;
        if (noextra === -1) noextra = 0;
        if (d[9] === '=') chain = Number(d.slice(10));
      } else if (d === 'ordered') unordered = false;
      else if (d === 'extra') noextra = 0;
      else if (d === 'noextra') noextra = 1;
      else if (d.startsWith('ignore=')) ignores.push(d.slice(7));
      else if (d.startsWith('ban=')) bans.push(d.slice(4));
    }
    if (noextra === -1) noextra = 1;
    const rest = match.slice(k);
    if (!unordered) return this.matchArgs(rest, args, Infinity, false);
    if (args.length % chain !== 0) return 0;
    const matched = new Array(args.length).fill(false);
    let ret = 0;
    for (let m = 0; m < rest.length; m += chain, ret++) {
      let i = 0;
      for (; i < args.length; i += chain) {
        if (this.matchArgs(rest.slice(m), args.slice(i), chain, false) === Infinity) {
          matched[i] = true;
          break;
        }
      }
      if (i >= args.length) return ret;
    }
    if (noextra > 0) {
      for (let i = 0; i < args.length; i += chain) {
        if (matched[i]) continue;
        const s = astring(args[i]);
        if (s === null) continue;
        if (!ignores.some((x) => x.toLowerCase() === s.toLowerCase())) return ret;
      }
    } else if (bans.length) {
      for (let i = 0; i < args.length; i += chain) {
        if (matched[i]) continue;
        const s = astring(args[i]);
        if (s === null) continue;
        if (bans.some((x) => x.toLowerCase() === s.toLowerCase())) return ret;
      }
    }
    return Infinity;
  }

  /** Infinity on a full match, else how many arguments matched. */
  matchArgs(match: Arg[], args: Arg[], max: number, prefix: boolean): number {
    let ret = 0;
    let mi = 0;
    let ai = 0;
    for (; mi < match.length && max > 0; mi++, ai++, max--) {
      const m = match[mi];
      const a = args[ai];
      if (m.type === 'nil') {
        if (!a || a.type !== 'nil') return ret;
      } else if (m.type === 'list') {
        if (!a || a.type !== 'list') return ret;
        const sub = this.matchList(m.items, a.items);
        if (sub !== Infinity) return ret + sub;
      } else {
        const mstr = cString(m.value);
        if (mstr === '$' && a && a.type === 'list') {
          ret++;
          continue;
        }
        if (mstr === '$]') {
          while (args[ai] && args[ai].type === 'atom' && !(args[ai] as { value: string }).value.includes(']')) ai++;
          ret++;
          continue;
        }
        const raw = astring(a);
        if (raw === null) return ret;
        const astr = cString(raw);
        const exp = this.expandInput(mstr, astr);
        if (!exp) return ret;
        const cmp = (x: string, y: string) => (exp.icase ? x.toLowerCase() === y.toLowerCase() : x === y);
        if (prefix && mi === match.length - 1) {
          if (!cmp(astr.slice(0, exp.out.length), exp.out)) return ret;
        } else if (!cmp(astr, exp.out)) return ret;
      }
      ret++;
    }
    if (prefix || ai >= args.length || max === 0) return Infinity;
    return ret;
  }

  revert(): void {
    for (const n of this.added) this.vars.delete(n);
    this.added = [];
  }

  handleExpunge(seq: number): void {
    if (seq > this.seqmap.length) return;
    for (let i = seq - 1; i < this.seqmap.length; i++) {
      if (this.seqmap[i] === seq) this.seqmap[i] = 0;
      else if (this.seqmap[i] > seq) this.seqmap[i]--;
    }
  }
}

// ------------------------------------------------------------------ execution

export interface RunnerTarget {
  port: number;
  /** A fresh account per script: the runner logs in with these. */
  newAccount(): Promise<{ username: string; password: string }>;
  mailbox: string;
}

/** The next message of the mbox, wrapping to its first one at the end as ImapTest's mailbox source does. */
function nextMboxMessage(messages: MboxMessage[]): MboxMessage | undefined {
  const msg = messages.shift();
  if (msg) messages.push(msg);
  return msg;
}

export type ScriptOutcome = { name: string; result: 'pass' | 'fail' | 'skip'; detail?: string };

async function setup(script: Script, target: RunnerTarget, clients: Client[], account: { username: string; password: string }, messages: MboxMessage[]): Promise<string | 'skip' | null> {
  const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
  for (const c of clients) {
    const greeting = await c.next();
    if (!greeting) return 'no greeting';
  }
  if (script.state === 'nonauth') {
    const caps = (await clients[0].run('CAPABILITY')).tagged ? clients[0].capabilities : [];
    if (!script.capabilities.every((x) => caps.some((y) => y.toLowerCase() === x.toLowerCase()))) return 'skip';
    return null;
  }
  for (const c of clients) {
    const r = await c.run(`LOGIN ${quote(account.username)} ${quote(account.password)}`);
    if (!r.tagged || !/^OK$/i.test(astring(r.tagged.args[0]) ?? '')) return `login failed: ${r.tagged?.text}`;
  }
  await clients[0].run('CAPABILITY');
  const caps = clients[0].capabilities;
  if (!script.capabilities.every((x) => caps.some((y) => y.toLowerCase() === x.toLowerCase()))) return 'skip';
  if (script.state === 'auth') return null;
  if (target.mailbox.toUpperCase() !== 'INBOX') {
    const r = await clients[0].run(`CREATE ${quote(target.mailbox)}`);
    if (!/^OK$/i.test(astring(r.tagged?.args[0]) ?? '')) return `create failed: ${r.tagged?.text}`;
  }
  if (script.state === 'created') return null;
  // `messages: all` is one pass over the mbox; a number may exceed it (ImapTest rereads the mbox from its start).
  const count = script.messages === Infinity ? messages.length : script.messages;
  for (let i = 0; i < count; i++) {
    const r = await clients[0].append(quote(target.mailbox), nextMboxMessage(messages)!);
    if (!r || !/^OK$/i.test(astring(r.args[0]) ?? '')) return `append failed: ${r?.text}`;
  }
  if (script.state === 'appended') return null;
  for (const c of clients) {
    const r = await c.run(`SELECT ${quote(target.mailbox)}`);
    if (!/^OK$/i.test(astring(r.tagged?.args[0]) ?? '')) return `select failed: ${r.tagged?.text}`;
  }
  return null;
}

export async function runScript(script: Script, target: RunnerTarget): Promise<ScriptOutcome> {
  const account = await target.newAccount();
  const messages = readMbox(script.mbox);
  const clients: Client[] = [];
  for (let i = 0; i < script.connections; i++) clients.push(await Client.connect(target.port, i + 1));
  const matcher = new Matcher();
  matcher.vars.set('user', account.username);
  matcher.vars.set('username', account.username.split('@')[0]);
  matcher.vars.set('domain', account.username.split('@')[1] ?? '127.0.0.1');
  matcher.vars.set('password', account.password);
  matcher.vars.set('mailbox', target.mailbox);
  matcher.vars.set('mailbox_url', encodeURIComponent(target.mailbox));
  try {
    const init = await setup(script, target, clients, account, messages);
    if (init === 'skip') return { name: script.name, result: 'skip', detail: `needs ${script.capabilities.join(' ')}` };
    if (init) return { name: script.name, result: 'fail', detail: `initialization: ${init}` };
    for (const [gi, group] of script.groups.entries()) {
      const failure = await runGroup(script, group, clients, matcher, messages);
      if (failure) return { name: script.name, result: 'fail', detail: `group ${gi + 1} (line ${group.commands[0]?.line}: ${group.commands[0]?.text.slice(0, 80)}): ${failure}` };
    }
    return { name: script.name, result: 'pass' };
  } catch (err) {
    return { name: script.name, result: 'fail', detail: String((err as Error).message ?? err) };
  } finally {
    for (const c of clients) c.close();
  }
}

async function runGroup(script: Script, group: Group, clients: Client[], m: Matcher, messages: MboxMessage[]): Promise<string | null> {
  const client = clients[group.connection];
  m.seqmap = Array.from({ length: client.exists }, (_, i) => i + 1);
  const found = new Array(group.untagged.length).fill(false);
  let extra: string | null = null;
  const received: string[] = [];
  const tags = new Map<string, ScriptCommand>();
  let firstTag: string | null = null;
  for (const cmd of group.commands) {
    let text = m.expandAll(cmd.text);
    const tag = client.nextTag();
    firstTag ??= tag;
    tags.set(tag, cmd);
    const lower = text.toLowerCase();
    if (lower === 'append' || (lower.startsWith('append ') && !/\{\d+\+?\}\r\n|catenate/i.test(text))) {
      const msg = nextMboxMessage(messages);
      if (!msg) return 'mbox has no messages';
      const args = lower === 'append' ? `"${m.vars.get('mailbox')}"` : text.slice(7);
      const hasDate = /"\s*\d{1,2}-[A-Za-z]{3}-\d{4}/.test(args);
      text = `APPEND ${args}${hasDate ? '' : ' ' + appendDate(msg)} {${msg.body.length}+}\r\n${msg.body.toString('latin1')}`;
    }
    client.send(tag, text);
  }
  let pending = tags.size;
  while (pending > 0) {
    const r = await client.next(15_000);
    if (!r) {
      if (group.hasBye && client.closed) break;
      return client.closed ? 'unexpected disconnection' : 'timeout waiting for replies';
    }
    if (r.kind === 'cont') continue;
    if (r.kind === 'untagged') {
      received.push(r.text);
      const a0 = astring(r.args[0]) ?? '';
      const prefix = /^(ok|no|bad|bye)$/i.test(a0);
      let some = false;
      for (let i = 0; i < group.untagged.length; i++) {
        if (found[i]) continue;
        if (firstTag) m.vars.set('tag', firstTag);
        const res = m.matchArgs(group.untagged[i].args, r.args, Infinity, prefix);
        m.vars.delete('tag');
        if (res === Infinity) {
          if (group.untagged[i].existence === 'mustnot') return `unexpected untagged match: ${argsToString(group.untagged[i].args)} / reply: ${r.text.slice(0, 200)}`;
          found[i] = true;
          some = true;
          m.added = [];
          if (group.ordered) break;
          continue;
        }
        m.revert();
        if (group.ordered && group.untagged[i].existence === 'must') break;
      }
      if (!some && !script.ignoreExtraUntagged && !extra) extra = r.text;
      const a1 = astring(r.args[1])?.toUpperCase();
      if (/^\d+$/.test(a0) && a1 === 'EXPUNGE') {
        m.handleExpunge(Number(a0));
        client.exists--;
      }
      if (a0.toUpperCase() === 'VANISHED' && astring(r.args[1]) !== null && r.args[1].type === 'atom' && !(r.args[1] as { value: string }).value.startsWith('(')) {
        // not tracked precisely: VANISHED tests need QRESYNC tracking
      }
      continue;
    }
    const cmd = r.tag ? tags.get(r.tag) : undefined;
    if (!cmd) continue;
    pending--;
    if (cmd.reply !== null) {
      m.vars.set('tag', r.tag!);
      const res = m.matchArgs(cmd.reply, r.args, Infinity, true);
      m.vars.delete('tag');
      if (res !== Infinity) return `expected tagged reply '${argsToString(cmd.reply)}', got '${r.text.slice(0, 300)}'`;
    }
  }
  const missing = group.untagged.findIndex((u, i) => u.existence === 'must' && !found[i]);
  if (missing >= 0) {
    let expanded = '';
    try {
      expanded = m.expandAll(argsToString(group.untagged[missing].args));
    } catch {
      expanded = argsToString(group.untagged[missing].args);
    }
    return `missing untagged reply: ${expanded}\n   received: ${received.slice(0, 4).map((t) => t.slice(0, 300)).join('\n   ')}`;
  }
  if (extra) return `unexpected untagged reply: ${extra}`;
  if (group.sleepMs) await new Promise((r) => setTimeout(r, group.sleepMs));
  return null;
}

export function loadScripts(dir: string): Script[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !f.endsWith('.mbox') && statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => parseScript(join(dir, f), dir));
}
