/** Limits of the Sieve engine, each a named setting with its default (operators tune them in the console). */
export interface SieveLimits {
  /** Largest script accepted, in bytes of UTF-8. */
  maxScriptSize: number;
  /** Deepest nesting of blocks and tests. */
  maxNestingDepth: number;
  /** Most actions (keep, fileinto, redirect, reject, vacation, ...) one run may produce. */
  maxActions: number;
  /** Most redirects one run may produce. */
  maxRedirects: number;
  /** Deepest chain of `include`. */
  maxIncludeDepth: number;
  /** Most distinct scripts one run may include. */
  maxIncludes: number;
  /** Longest value a variable holds, in characters (RFC 5229 asks for at least 4000). */
  maxVariableSize: number;
  /** Most variables one script scope may define. */
  maxVariables: number;
  /** Vacation :days bounds (RFC 5230 §4.1: the site may clamp). */
  vacationMinDays: number;
  vacationMaxDays: number;
}

export const DEFAULT_SIEVE_LIMITS: SieveLimits = {
  maxScriptSize: 64 * 1024,
  maxNestingDepth: 32,
  maxActions: 32,
  maxRedirects: 4,
  maxIncludeDepth: 10,
  maxIncludes: 32,
  maxVariableSize: 4000,
  maxVariables: 128,
  vacationMinDays: 1,
  vacationMaxDays: 30,
};

export const resolveLimits = (limits: Partial<SieveLimits> = {}): SieveLimits => ({ ...DEFAULT_SIEVE_LIMITS, ...limits });
