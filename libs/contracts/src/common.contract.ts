import { z } from 'zod';

export const uuid = z.uuid();
export const isoDate = z.string().describe('ISO 8601 timestamp');

/** Page through a list: `offset`/`limit`, total counted up to a cap. */
export const pageQuery = z.object({
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number().int().describe('number of matching objects'),
    offset: z.number().int(),
    limit: z.number().int(),
  });

export const errorBody = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  field: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** Byte counts: whole bytes, or null for "no limit". */
export const byteLimit = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable();
export const countLimit = z.number().int().min(0).max(100_000_000).nullable();
