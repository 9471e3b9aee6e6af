/**
 * The body of a confirmed delete, read as `{}` when the request has none, so the global Zod pipe's
 * 400 names `confirm` instead of "(body)". Swagger cannot see custom parameters: pair it with @ApiBody.
 */
import { createParamDecorator, ExecutionContext } from '@nestjs/common';

export const ConfirmBody = createParamDecorator((_: unknown, ctx: ExecutionContext): unknown => ctx.switchToHttp().getRequest<{ body?: unknown }>().body ?? {});
