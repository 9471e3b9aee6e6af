// What a command file declares: the states it runs in, its argument schema, whether it carries credentials, and its handler.
import type { MaildropMessage } from './maildrop';
import type { Session, SessionState } from './session';

/**
 * Argument kinds, checked and converted by the dispatcher before the handler runs; a trailing `?` makes one optional.
 * msg: a message number of the maildrop that is not deleted; count: a non-negative integer; word: one space-free
 * token; text: the rest of the line verbatim (passwords may contain spaces).
 */
export type ArgKind = 'msg' | 'count' | 'word' | 'text';
export type ArgSpec = ArgKind | `${ArgKind}?`;
export type ArgValue = MaildropMessage | number | string | undefined;

/** The single-line +OK text; void when the handler wrote its own (multi-line) response. */
export type CommandResult = string | void;

export interface Pop3Command {
  name: string;
  states: SessionState[];
  args: ArgSpec[];
  /** Sends credentials: refused with [AUTH] on a plain connection until STLS (RFC 2595 §2.2). */
  carriesCredentials?: boolean;
  handle(session: Session, args: ArgValue[]): Promise<CommandResult>;
}

export function defineCommand(command: Pop3Command): Pop3Command {
  return command;
}
