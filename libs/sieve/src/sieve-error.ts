/** Errors of a Sieve script: where (line:column, 1-based) and what to fix. */
export interface SourcePosition {
  line: number;
  column: number;
}

export type SieveErrorKind = 'syntax' | 'validation' | 'runtime';

export class SieveError extends Error {
  constructor(
    readonly kind: SieveErrorKind,
    readonly reason: string,
    readonly position?: SourcePosition,
  ) {
    super(position ? `line ${position.line}:${position.column}: ${reason}` : reason);
    this.name = 'SieveError';
  }
}

export const syntaxError = (reason: string, position: SourcePosition) => new SieveError('syntax', reason, position);
export const validationError = (reason: string, position?: SourcePosition) => new SieveError('validation', reason, position);
export const runtimeError = (reason: string, position?: SourcePosition) => new SieveError('runtime', reason, position);
