/**
 * Refuses text PostgreSQL cannot store before it reaches a service: a NUL character in any body
 * field, query parameter or path parameter answers 400 naming the field, instead of a driver error
 * (22021) deep inside a query. Runs for every route, so no service has to remember it.
 */
import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { badRequest } from './api-error';

const MAX_DEPTH = 32;

@Injectable()
export class StoredTextPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const root = metadata.type === 'body' ? [] : metadata.data ? [metadata.data] : [];
    const field = findNul(value, root, 0);
    if (field !== null) {
      const name = field || (metadata.type === 'body' ? '(body)' : metadata.type);
      throw badRequest(`${name}: must not contain a NUL character (U+0000)`, name);
    }
    return value;
  }
}

/** Path of the first string (or object key) holding U+0000, '' for the root itself; null when there is none. */
function findNul(value: unknown, path: string[], depth: number): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') : null;
  if (value === null || typeof value !== 'object') return null;
  // No contract nests this deep; walking further would let a crafted body spend our stack.
  if (depth > MAX_DEPTH) throw badRequest(`${path.join('.') || '(body)'}: nested more than ${MAX_DEPTH} levels deep`, path.join('.') || '(body)');
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findNul(value[i], [...path, String(i)], depth + 1);
      if (hit !== null) return hit;
    }
    return null;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key.replaceAll('\u0000', '\\0')].join('.');
    const hit = findNul(child, [...path, key], depth + 1);
    if (hit !== null) return hit;
  }
  return null;
}
