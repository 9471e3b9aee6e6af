/**
 * Reads ManageSieve commands (RFC 5804 §4) from the bytes received so far: an atom (the command name), then quoted
 * strings, literals ({n+} and {n}, both taken without a continuation, as Dovecot does) and numbers, up to CRLF.
 */

export type Argument = { kind: 'string'; value: Buffer } | { kind: 'atom'; value: string };

export interface ParsedCommand {
  name: string;
  args: Argument[];
}

export type ParseOutcome =
  | { kind: 'incomplete' }
  | { kind: 'command'; command: ParsedCommand; consumed: number }
  /** `consumed`: where the next command starts (after the bad line), or -1 when the stream cannot be resynchronised. */
  | { kind: 'error'; message: string; consumed: number };

export interface ParseLimits {
  maxLineBytes: number;
  maxLiteralBytes: number;
}

const CRLF = Buffer.from('\r\n');

/** Parses one command from the start of `buf`. */
export function parseCommand(buf: Buffer, limits: ParseLimits): ParseOutcome {
  const args: Argument[] = [];
  let name: string | null = null;
  let p = 0;
  let lineBytes = 0;
  const badLine = (message: string): ParseOutcome => {
    const end = buf.indexOf(CRLF, p);
    return { kind: 'error', message, consumed: end < 0 ? -1 : end + 2 };
  };
  for (;;) {
    if (p >= buf.length) return lineBytes > limits.maxLineBytes ? { kind: 'error', message: 'Line too long.', consumed: -1 } : { kind: 'incomplete' };
    const c = buf[p];
    if (c === 0x0d) {
      if (p + 1 >= buf.length) return { kind: 'incomplete' };
      if (buf[p + 1] !== 0x0a) return badLine('Expected CRLF.');
      if (name === null) return { kind: 'error', message: 'Empty command.', consumed: p + 2 };
      return { kind: 'command', command: { name, args }, consumed: p + 2 };
    }
    if (c === 0x0a) return badLine('Bare LF.');
    if (c === 0x20) {
      p++;
      lineBytes++;
      continue;
    }
    if (c === 0x22) {
      // Quoted string: \" and \\ are the only escapes; no CR or LF inside.
      const bytes: number[] = [];
      let q = p + 1;
      for (;;) {
        if (q >= buf.length) return q - p > limits.maxLineBytes ? { kind: 'error', message: 'Line too long.', consumed: -1 } : { kind: 'incomplete' };
        const d = buf[q];
        if (d === 0x22) break;
        if (d === 0x0d || d === 0x0a) return badLine('Unterminated quoted string.');
        if (d === 0x5c) {
          if (q + 1 >= buf.length) return { kind: 'incomplete' };
          const e = buf[q + 1];
          if (e !== 0x22 && e !== 0x5c) return badLine('Invalid escape in quoted string.');
          bytes.push(e);
          q += 2;
          continue;
        }
        bytes.push(d);
        q++;
      }
      if (name === null) return badLine('Expected a command name.');
      args.push({ kind: 'string', value: Buffer.from(bytes) });
      lineBytes += q + 1 - p;
      p = q + 1;
      continue;
    }
    if (c === 0x7b) {
      const close = buf.indexOf(0x7d, p);
      if (close < 0) return buf.length - p > 32 ? badLine('Invalid literal.') : { kind: 'incomplete' };
      const m = /^\{(\d{1,10})(\+?)\}$/.exec(buf.subarray(p, close + 1).toString('latin1'));
      if (!m) return badLine('Invalid literal.');
      if (close + 3 > buf.length) return { kind: 'incomplete' };
      if (buf[close + 1] !== 0x0d || buf[close + 2] !== 0x0a) return badLine('Expected CRLF after the literal length.');
      const size = Number(m[1]);
      if (size > limits.maxLiteralBytes) return { kind: 'error', message: `Literal of ${size} bytes is too big.`, consumed: -1 };
      const start = close + 3;
      if (start + size > buf.length) return { kind: 'incomplete' };
      if (name === null) return { kind: 'error', message: 'Expected a command name.', consumed: -1 };
      args.push({ kind: 'string', value: buf.subarray(start, start + size) });
      p = start + size;
      continue;
    }
    // Atom or number.
    let q = p;
    while (q < buf.length && buf[q] > 0x20 && buf[q] < 0x7f && buf[q] !== 0x22 && buf[q] !== 0x7b && buf[q] !== 0x28 && buf[q] !== 0x29) q++;
    if (q === p) return badLine('Invalid character.');
    if (q >= buf.length) return q - p > limits.maxLineBytes ? { kind: 'error', message: 'Line too long.', consumed: -1 } : { kind: 'incomplete' };
    const atom = buf.subarray(p, q).toString('latin1');
    if (name === null) name = atom.toUpperCase();
    else args.push({ kind: 'atom', value: atom });
    lineBytes += q - p;
    p = q;
  }
}
