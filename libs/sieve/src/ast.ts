/** The syntax tree of a Sieve script (RFC 5228 §8.2), as the parser builds it and the validator annotates it. */
import type { SourcePosition } from './sieve-error';

export interface StringListArgument {
  kind: 'strings';
  values: string[];
  /** A bare string rather than a bracketed list: some arguments accept only a single string. */
  single: boolean;
  position: SourcePosition;
}

export interface NumberArgument {
  kind: 'number';
  value: number;
  position: SourcePosition;
}

export interface TagArgument {
  kind: 'tag';
  name: string;
  position: SourcePosition;
}

export type SieveArgument = StringListArgument | NumberArgument | TagArgument;

/** What the validator reads out of the argument list: each tag with its own argument, then the positional ones. */
export interface ResolvedArguments {
  tags: Map<string, StringListArgument | NumberArgument | null>;
  positional: (StringListArgument | NumberArgument)[];
}

export interface SieveTest {
  name: string;
  args: SieveArgument[];
  tests: SieveTest[];
  position: SourcePosition;
  resolved?: ResolvedArguments;
}

export interface SieveCommand {
  name: string;
  args: SieveArgument[];
  tests: SieveTest[];
  block: SieveCommand[] | null;
  position: SourcePosition;
  resolved?: ResolvedArguments;
}

export interface SieveScript {
  commands: SieveCommand[];
  /** Extensions named by `require`, lower-cased. */
  requires: Set<string>;
  /** Set once `validate` has passed: the interpreter refuses an unvalidated script. */
  validated: boolean;
}
