// Checks a parsed command against its declaration (state, arguments) before the handler runs, and maps errors once.
import type { ArgSpec, ArgValue, CommandContext, ImapCommand } from './command';
import { bad, ImapError, toImapError } from './imap-error';
import { argString, type ImapArg, type ParsedCommand } from './parser/command-parser';
import { parseSequenceSet } from './parser/sequence-set';
import type { Session } from './session';

export class CommandRegistry {
  private readonly byName = new Map<string, ImapCommand>();

  constructor(commands: ImapCommand[]) {
    for (const c of commands) this.byName.set(c.name, c);
  }

  find(name: string): ImapCommand | undefined {
    return this.byName.get(name);
  }
}

function convert(session: Session, spec: ArgSpec, arg: ImapArg | undefined): ArgValue {
  const optional = spec.endsWith('?');
  const kind = (optional ? spec.slice(0, -1) : spec) as Exclude<ArgSpec, `${string}?`>;
  if (arg === undefined) {
    if (optional) return undefined;
    throw bad('Missing arguments');
  }
  switch (kind) {
    case 'astring': {
      const s = argString(arg);
      if (s === null) throw bad('Expected a string');
      return s;
    }
    case 'nstring':
      if (arg.type === 'nil') return null;
      if (argString(arg) === null) throw bad('Expected a string or NIL');
      return argString(arg);
    case 'mailbox': {
      const s = argString(arg);
      if (s === null) throw bad('Expected a mailbox name');
      return session.folderName(s);
    }
    case 'atom':
      if (arg.type !== 'atom') throw bad('Expected an atom');
      return arg.value;
    case 'seqset': {
      const set = arg.type === 'atom' ? parseSequenceSet(arg.value, session.settings.maxSequenceSetRanges) : null;
      if (set === 'too-many') throw bad(`Sequence set has more than ${session.settings.maxSequenceSetRanges} ranges`);
      if (!set) throw bad('Invalid sequence set');
      return set;
    }
    case 'list':
      if (arg.type !== 'list') throw bad('Expected a parenthesised list');
      return arg.items;
    default:
      throw bad('Invalid argument');
  }
}

/** Converts the arguments by the command's schema; an optional spec that does not fit is skipped. */
export function convertArgs(session: Session, command: ImapCommand, args: ImapArg[]): ArgValue[] {
  const out: ArgValue[] = [];
  let i = 0;
  for (const spec of command.args) {
    if (spec === 'rest') {
      out.push(args.slice(i));
      i = args.length;
      continue;
    }
    const optional = spec.endsWith('?');
    if (optional && spec === 'list?' && args[i]?.type !== 'list') {
      out.push(undefined);
      continue;
    }
    out.push(convert(session, spec, args[i]));
    if (args[i] !== undefined) i++;
  }
  if (i < args.length) throw bad('Too many arguments');
  return out;
}

export type DispatchOutcome = { status: 'OK' | 'NO' | 'BAD'; text: string; code?: string };

export async function dispatch(session: Session, registry: CommandRegistry, parsed: ParsedCommand): Promise<DispatchOutcome> {
  let name = parsed.name;
  let args = parsed.args;
  let uid = false;
  if (name === 'UID') {
    const sub = args[0];
    if (!sub || sub.type !== 'atom') return { status: 'BAD', text: 'UID needs a command' };
    name = sub.value.toUpperCase();
    args = args.slice(1);
    uid = true;
  }
  const command = registry.find(name);
  if (!command || (uid && !command.uidVariant)) return { status: 'BAD', text: `Unknown command ${uid ? 'UID ' : ''}${name}` };
  if (!command.states.includes(session.state)) {
    const text = session.state === 'not-authenticated' ? 'Log in first' : session.state === 'authenticated' ? 'Select a mailbox first' : 'Not allowed in this state';
    return { status: 'BAD', text };
  }
  const ctx: CommandContext = { session, tag: parsed.tag, uid };
  try {
    const values = convertArgs(session, command, args);
    session.uidInFetch = uid;
    const result = await command.handle(ctx, values);
    session.uidInFetch = false;
    const allowExpunge = !(command.forbidsExpunge?.(ctx) ?? false);
    await session.sync(allowExpunge);
    const text = result || `${uid ? 'UID ' : ''}${name} completed`;
    return { status: 'OK', text };
  } catch (err) {
    session.uidInFetch = false;
    const mapped = toImapError(err);
    if (!mapped) throw err;
    if (mapped.status === 'NO') await session.sync(!(command.forbidsExpunge?.(ctx) ?? false)).catch(() => undefined);
    return { status: mapped.status, text: mapped.text, code: mapped.code };
  }
}

export { ImapError };
