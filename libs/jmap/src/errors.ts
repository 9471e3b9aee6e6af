/** JMAP errors at the two levels of RFC 8620 §3.6: the whole request (problem+json) and one method call. */

export type RequestErrorType = 'unknownCapability' | 'notJSON' | 'notRequest' | 'limit';

/** Refuses the whole request: answered as an RFC 7807 problem with the HTTP status given. */
export class JmapRequestError extends Error {
  constructor(
    readonly type: RequestErrorType,
    readonly detail: string,
    readonly status = 400,
    /** For `limit`: the name of the limit exceeded (maxSizeRequest, maxCallsInRequest, maxConcurrentRequests). */
    readonly limit?: string,
  ) {
    super(detail);
    this.name = 'JmapRequestError';
  }

  problem(): Record<string, unknown> {
    return { type: `urn:ietf:params:jmap:error:${this.type}`, status: this.status, detail: this.detail, ...(this.limit ? { limit: this.limit } : {}) };
  }
}

export type MethodErrorType =
  | 'serverUnavailable' | 'serverFail' | 'serverPartialFail' | 'unknownMethod' | 'invalidArguments' | 'invalidResultReference'
  | 'forbidden' | 'accountNotFound' | 'accountNotSupportedByMethod' | 'accountReadOnly' | 'requestTooLarge'
  | 'cannotCalculateChanges' | 'stateMismatch' | 'anchorNotFound' | 'unsupportedSort' | 'unsupportedFilter' | 'tooManyChanges'
  | 'fromAccountNotFound';

/** Answered as the `error` response of the one method call; the calls before and after it still run. */
export class MethodError extends Error {
  constructor(readonly type: MethodErrorType, readonly description?: string, readonly extra: Record<string, unknown> = {}) {
    super(description ?? type);
    this.name = 'MethodError';
  }

  response(): Record<string, unknown> {
    return { type: this.type, ...(this.description ? { description: this.description } : {}), ...this.extra };
  }
}

/** One record of a /set call refused (RFC 8620 §5.3 SetError). */
export interface SetError {
  type: string;
  description?: string;
  properties?: string[];
  [extra: string]: unknown;
}

export function setError(type: string, description?: string, properties?: string[]): SetError {
  return { type, ...(description ? { description } : {}), ...(properties ? { properties } : {}) };
}
