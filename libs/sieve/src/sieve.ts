/** The Sieve engine's entry points: parse (and validate) a script, validate a parsed one, run it over a message. */
import type { SieveScript } from './ast';
import { runScript } from './interpreter';
import type { SieveEnvironment, SieveMessage, SieveResult } from './message';
import { parseTokens } from './parser';
import type { SieveLimits } from './settings';
import { type ValidateOptions, validateScript } from './validator';

export interface ParseSieveOptions extends ValidateOptions {
  limits?: Partial<SieveLimits>;
  /** false: only the grammar is checked (the script then goes through `validate` before it can run). Default true. */
  validate?: boolean;
}

/** Parses a script; throws a SieveError (kind syntax or validation) with line:column and what to fix. */
export function parseSieve(text: string, options: ParseSieveOptions = {}): SieveScript {
  const script = parseTokens(text, { limits: options.limits });
  return options.validate === false ? script : validateScript(script, options);
}

/** Checks require, commands, tests and argument shapes; throws a SieveError of kind validation. */
export function validate(script: SieveScript, options: ValidateOptions = {}): SieveScript {
  return validateScript(script, options);
}

/** Runs a validated script: the actions to carry out, and any runtime error (then the actions are the implicit keep). */
export function runSieve(script: SieveScript, message: SieveMessage, env: SieveEnvironment = {}): SieveResult {
  return runScript(script, message, env);
}

/** For ManageSieve's CHECKSCRIPT/PUTSCRIPT: null when the script is valid, else the error (with line:column). */
export function checkSieve(text: string, options: ParseSieveOptions = {}): string | null {
  try {
    parseSieve(text, options);
    return null;
  } catch (error) {
    if (error instanceof Error && error.name === 'SieveError') return error.message;
    throw error;
  }
}
