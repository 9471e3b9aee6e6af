/** Errors that carry their HTTP status; mapped to a response once, in HttpErrorFilter. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const forbidden = (message = 'your role does not allow this') => new ApiError(403, 'forbidden', message);
export const conflict = (message: string, field?: string) => new ApiError(409, 'conflict', message, field);
export const badRequest = (message: string, field?: string) => new ApiError(400, 'bad_request', message, field);
export const unauthorized = (message = 'sign in first') => new ApiError(401, 'unauthorized', message);
export const tooManyRequests = (message: string) => new ApiError(429, 'too_many_requests', message);
/** A limit (plan, registration code, quota) refuses the change. */
export const limitReached = (message: string, field?: string) => new ApiError(409, 'limit_reached', message, field);
