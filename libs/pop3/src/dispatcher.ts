// Checks a command line against its command's declaration (state, TLS gate, arguments) before the handler runs, and maps errors once.
import type { ArgKind, ArgSpec, ArgValue, Pop3Command } from './command';
import { badCommand, formatError, refuse, toPop3Error } from './pop3-error';
import type { Session } from './session';

export class CommandRegistry {
  private readonly byName = new Map<string, Pop3Command>();

  constructor(commands: Pop3Command[]) {
    for (const c of commands) this.byName.set(c.name, c);
  }

  find(name: string): Pop3Command | undefined {
    return this.byName.get(name);
  }
}

const DIGITS = /^\d{1,9}$/;

/** Converts the text after the command name by the command's schema. */
export function convertArgs(session: Session, specs: ArgSpec[], rest: string): ArgValue[] {
  const values: ArgValue[] = [];
  let remaining = rest;
  for (const spec of specs) {
    const optional = spec.endsWith('?');
    const kind = (optional ? spec.slice(0, -1) : spec) as ArgKind;
    if (kind === 'text') {
      if (!remaining && !optional) throw badCommand('Missing argument');
      values.push(remaining || undefined);
      remaining = '';
      continue;
    }
    const match = /^(\S+) ?(.*)$/s.exec(remaining);
    if (!match) {
      if (!optional) throw badCommand('Missing argument');
      values.push(undefined);
      continue;
    }
    const [, token, tail] = match;
    remaining = tail;
    switch (kind) {
      case 'word':
        values.push(token);
        break;
      case 'count':
        if (!DIGITS.test(token)) throw badCommand(`Expected a number, got ${token.slice(0, 20)}`);
        values.push(Number(token));
        break;
      case 'msg':
        if (!DIGITS.test(token) || Number(token) === 0) throw badCommand(`Expected a message number, got ${token.slice(0, 20)}`);
        values.push(session.maildrop!.get(Number(token)));
        break;
    }
  }
  if (remaining.trim()) throw badCommand('Too many arguments');
  return values;
}

export type DispatchOutcome = { ok: true } | { ok: false; badCommand: boolean };

/** Runs one command line and writes its answer. */
export async function dispatch(session: Session, registry: CommandRegistry, line: string): Promise<DispatchOutcome> {
  const match = /^(\S+)(?: (.*))?$/s.exec(line.replace(/^ +/, ''));
  const name = match?.[1].toUpperCase() ?? '';
  const command = match ? registry.find(name) : undefined;
  try {
    if (!command) throw badCommand(name ? `Unknown command ${name.slice(0, 20)}` : 'Empty command');
    if (!command.states.includes(session.state)) {
      throw refuse(session.state === 'authorization' ? `${name} needs a login first` : `${name} is not valid after login`);
    }
    if (command.carriesCredentials && !session.mayAuthenticate) {
      // Dovecot's wording; clients know to issue STLS on [AUTH] here.
      throw refuse('Plaintext authentication disallowed on non-secure (SSL/TLS) connections.', 'AUTH');
    }
    const args = convertArgs(session, command.args, match?.[2] ?? '');
    const text = await command.handle(session, args);
    if (typeof text === 'string') session.write(`+OK ${text}\r\n`);
    return { ok: true };
  } catch (err) {
    const mapped = toPop3Error(err);
    if (!mapped) {
      // Unexpected (database or Redis down): answer, then let the session end with the error logged.
      session.write('-ERR [SYS/TEMP] Internal server error\r\n');
      throw err;
    }
    session.write(formatError(mapped));
    return { ok: false, badCommand: mapped.badCommand };
  }
}
