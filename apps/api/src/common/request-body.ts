/**
 * What request bodies the API reads, and where. JSON (capped, API_JSON_BODY_MAX_BYTES) is parsed for
 * every route; text bodies only on routes marked @TextBody(), by the handler itself, after sign-in,
 * capped after decompression (API_IMPORT_BODY_MAX_BYTES). Any other media type answers 415 unread.
 */
import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { text } from 'express';
import { ApiError } from './api-error';

const TEXT_BODY_ROUTE = 'dizi:text-body';
export const TEXT_BODY_TYPES = ['text/csv', 'text/plain'];

/** The route takes a text body (CSV) and reads it with readTextBody. */
export const TextBody = () => SetMetadata(TEXT_BODY_ROUTE, true);

const unsupported = (expected: string) => new ApiError(415, 'unsupported_media_type', `this route takes ${expected} request bodies`);

function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Global guard: a body of a media type the route does not read is refused before anything reads it. */
@Injectable()
export class BodyMediaTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request>();
    if (!hasBody(req)) return true;
    const textRoute = this.reflector.getAllAndOverride<boolean>(TEXT_BODY_ROUTE, [ctx.getHandler(), ctx.getClass()]);
    if (textRoute) {
      if (!req.is(TEXT_BODY_TYPES)) throw unsupported(TEXT_BODY_TYPES.join(' or '));
    } else if (!req.is(['application/json', '+json'])) {
      throw unsupported('application/json');
    }
    return true;
  }
}

/** Reads a text body on a @TextBody() route; errors (413 too large, 415 encoding or charset, 400) go to the error filter. */
export function readTextBody(req: Request, res: Response, limitBytes: number): Promise<string | undefined> {
  const parse = text({ type: TEXT_BODY_TYPES, limit: limitBytes, inflate: true });
  return new Promise((resolve, reject) => {
    parse(req, res, (err?: unknown) => (err ? reject(err) : resolve(typeof req.body === 'string' ? req.body : undefined)));
  });
}
