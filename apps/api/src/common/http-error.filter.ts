import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ZodValidationException } from 'nestjs-zod';
import { QueryFailedError } from 'typeorm';
import { InvalidAddressError } from '@dizi/domain/address';
import { InvalidDomainNameError } from '@dizi/domain/domain-name';
import { ApiError } from './api-error';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
  errors?: { field: string; message: string }[];
}

interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
}

/** The single place where errors become HTTP responses. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (body.statusCode === 429) res.setHeader('Retry-After', '60');
    res.status(body.statusCode).json(body);
  }

  private toBody(e: unknown): ErrorBody {
    if (e instanceof ApiError) return { statusCode: e.status, error: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
    if (e instanceof ZodValidationException) {
      const issues = (e.getZodError() as { issues: ZodIssueLike[] }).issues;
      const errors = issues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', message: i.message }));
      const first = errors[0];
      return { statusCode: 400, error: 'validation_failed', message: `${first.field}: ${first.message}`, field: first.field, errors };
    }
    if (e instanceof InvalidDomainNameError) return { statusCode: 400, error: 'invalid_domain', message: e.message };
    if (e instanceof InvalidAddressError) return { statusCode: 400, error: 'invalid_address', message: e.message };
    if (e instanceof QueryFailedError) {
      const code = (e.driverError as { code?: string } | undefined)?.code;
      if (code === '23505') return { statusCode: 409, error: 'conflict', message: 'an object with this name or address already exists' };
      if (code === '22P02') return { statusCode: 400, error: 'bad_request', message: 'an id or value has the wrong format' };
      if (code === '23514') return { statusCode: 400, error: 'bad_request', message: 'a value is out of its allowed range' };
      // The input reached a query it should not have: still the client's value, never a 500.
      if (code === '22021' || code === '22P05') return { statusCode: 400, error: 'bad_request', message: 'a value holds a character that cannot be stored' };
      if (code === '22001' || code === '22003' || code === '22008' || code === '22007') {
        return { statusCode: 400, error: 'bad_request', message: 'a value is too long, too large or not a valid date' };
      }
      if (code === '54000') return { statusCode: 400, error: 'bad_request', message: 'a value is too large to index' };
    }
    if (e instanceof HttpException) {
      const status = e.getStatus();
      const r = e.getResponse();
      const message = typeof r === 'string' ? r : ((r as { message?: string | string[] }).message ?? e.message);
      return { statusCode: status, error: status === 404 ? 'not_found' : 'http_error', message: Array.isArray(message) ? message.join('; ') : String(message) };
    }
    if (e instanceof SyntaxError && 'body' in (e as object)) return { statusCode: 400, error: 'bad_request', message: 'the request body is not valid JSON' };
    const bodyError = bodyParserError(e);
    if (bodyError) return bodyError;
    return { statusCode: 500, error: 'internal', message: 'internal error' };
  }
}

/**
 * Errors of the body parsers (http-errors, most with a `type`): too large, an encoding or charset we do not
 * read, a body that does not match its declared length. Their status is the client's fault by design.
 */
function bodyParserError(e: unknown): ErrorBody | null {
  if (!e || typeof e !== 'object') return null;
  // http-errors marks client errors `expose`; a zlib failure (broken gzip) arrives as one without a `type`.
  const { type, status, expose } = e as { type?: unknown; status?: unknown; expose?: unknown };
  if (typeof status !== 'number' || expose !== true || status < 400 || status >= 500) return null;
  switch (type) {
    case 'entity.too.large':
      return { statusCode: 413, error: 'payload_too_large', message: 'the request body is larger than this route accepts' };
    case 'encoding.unsupported':
      return { statusCode: 415, error: 'unsupported_media_type', message: 'the request body has a Content-Encoding this API does not read (use gzip, deflate, br or none)' };
    case 'charset.unsupported':
      return { statusCode: 415, error: 'unsupported_media_type', message: 'the request body has a charset this API does not read (use utf-8)' };
    default:
      return { statusCode: status, error: 'bad_request', message: 'the request body could not be read (wrong length or encoding)' };
  }
}
