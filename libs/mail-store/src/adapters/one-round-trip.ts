/**
 * Writes in one round trip: the row locks and the write go to PostgreSQL as one simple-protocol query of several
 * statements, which it runs as one implicit transaction. The first statements lock folder (and mailbox) rows in the
 * global lock order; the last statement does the whole write. In READ COMMITTED each statement takes its own snapshot,
 * so the write, which starts only once the locks are held, sees every earlier writer's commit: UIDs, MODSEQs and
 * counters computed in it are exact, and the locks are held for that one statement instead of across the node's
 * round trips (BEGIN, lock, read, write, COMMIT). The simple protocol has no parameters, so values are sent as quoted
 * literals (pg's escapeLiteral) and each placeholder carries its cast in the SQL, as it would with parameters.
 */
import { escapeLiteral, type Pool } from 'pg';

/** One array element as PostgreSQL's array input reads it (quoted, `"` and `\` escaped). */
function arrayElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) return arrayText(value);
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

function arrayText(values: unknown[]): string {
  return `{${values.map(arrayElement).join(',')}}`;
}

/** A value as a quoted SQL literal; its type comes from the cast written beside the placeholder. */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) return escapeLiteral(arrayText(value));
  if (value instanceof Date) return escapeLiteral(value.toISOString());
  if (typeof value === 'object') return escapeLiteral(JSON.stringify(value));
  return escapeLiteral(String(value));
}

/** `$n` placeholders replaced by literals of params[n - 1] (the SQL holds no `$` anywhere else). */
export function inlineParams(sql: string, params: unknown[]): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= params.length) throw new RangeError(`no value for placeholder $${n}`);
    return sqlLiteral(params[i]);
  });
}

export interface RowLocks {
  /** Folder rows, locked first, in id order. */
  folders: string[];
  /** Mailboxes of those folders (and of these ids), locked second, in id order. */
  mailboxesOfFolders?: boolean;
}

/**
 * Runs `sql` (placeholders `$n` over `params`) after locking the given rows, in one round trip and one transaction;
 * returns the rows of `sql`. An error in any statement rolls the whole transaction back.
 */
export async function lockedWrite<R>(pool: Pool, locks: RowLocks, sql: string, params: unknown[]): Promise<R[]> {
  const ids = sqlLiteral([...new Set(locks.folders)].sort());
  const statements = [`SELECT 1 FROM folder WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR NO KEY UPDATE`];
  if (locks.mailboxesOfFolders) {
    statements.push(`SELECT 1 FROM mailbox WHERE id IN (SELECT mailbox_id FROM folder WHERE id = ANY(${ids}::uuid[]))
      ORDER BY id FOR NO KEY UPDATE`);
  }
  statements.push(inlineParams(sql, params));
  const results = (await pool.query(statements.join(';\n'))) as unknown as Array<{ rows: R[] }>;
  return results[results.length - 1].rows;
}
