/**
 * JSON Pointer (RFC 6901) as JMAP result references evaluate it (RFC 8620 §3.7): a `*` token applied to an array maps
 * the rest of the path over every item, and an item that yields an array is flattened into the result.
 */
export class PointerError extends Error {}

export function evaluatePointer(value: unknown, path: string): unknown {
  if (path === '') return value;
  if (!path.startsWith('/')) throw new PointerError(`path ${JSON.stringify(path)} does not start with /`);
  const tokens = path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  return walk(value, tokens, path);
}

function walk(value: unknown, tokens: string[], path: string): unknown {
  if (tokens.length === 0) return value;
  const [token, ...rest] = tokens;
  if (Array.isArray(value)) {
    if (token === '*') {
      const out: unknown[] = [];
      for (const item of value) {
        const r = walk(item, rest, path);
        if (Array.isArray(r)) out.push(...r);
        else out.push(r);
      }
      return out;
    }
    if (!/^(0|[1-9][0-9]*)$/.test(token) || Number(token) >= value.length) throw new PointerError(`${path}: no item ${token}`);
    return walk(value[Number(token)], rest, path);
  }
  if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, token)) {
    return walk((value as Record<string, unknown>)[token], rest, path);
  }
  throw new PointerError(`${path}: no member ${token}`);
}
