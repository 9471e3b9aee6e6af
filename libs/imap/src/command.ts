// What a command file declares: the states it runs in, its argument schema and its handler.
import type { ImapArg } from './parser/command-parser';
import type { SequenceSet } from './parser/sequence-set';
import type { Session } from './session';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected';

export const ANY_STATE: SessionState[] = ['not-authenticated', 'authenticated', 'selected'];
export const AUTHENTICATED: SessionState[] = ['authenticated', 'selected'];
export const SELECTED: SessionState[] = ['selected'];

/**
 * Argument kinds, checked and converted by the dispatcher before the handler runs; a trailing `?` makes one optional.
 * mailbox: astring decoded from modified UTF-7 to a store folder name; astring: atom/quoted/literal; atom: bare atom;
 * seqset: sequence set or `$`; list: parenthesised list (its items); rest: all remaining arguments, unchecked.
 */
export type ArgKind = 'mailbox' | 'astring' | 'atom' | 'seqset' | 'list' | 'rest' | 'nstring';
export type ArgSpec = ArgKind | `${Exclude<ArgKind, 'rest'>}?`;

export type ArgValue = string | SequenceSet | ImapArg[] | null | undefined;

export interface CommandContext {
  session: Session;
  tag: string;
  /** Called as UID <name>. */
  uid: boolean;
}

/** What the tagged OK says; a handler may return its own text, with a response code in front. */
export type CommandResult = string | void;

export interface ImapCommand {
  name: string;
  /** Also answers to `UID <name>` (FETCH, STORE, COPY, MOVE, SEARCH, EXPUNGE, SORT, THREAD). */
  uidVariant?: boolean;
  states: SessionState[];
  args: ArgSpec[];
  /** RFC 3501 §7.4.1: no EXPUNGE responses after FETCH, STORE and SEARCH (their UID forms allow them). */
  forbidsExpunge?: (ctx: CommandContext) => boolean;
  handle(ctx: CommandContext, args: ArgValue[]): Promise<CommandResult>;
}

export function defineCommand(command: ImapCommand): ImapCommand {
  return command;
}
