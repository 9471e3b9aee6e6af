/** A user's search text as a literal inside a LIKE/ILIKE pattern: `\`, `%` and `_` escaped with `\` (PostgreSQL's default ESCAPE). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
