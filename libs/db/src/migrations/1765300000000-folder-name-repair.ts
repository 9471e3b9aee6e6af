import { MigrationInterface, QueryRunner } from 'typeorm';
import { reportMigrationProgress } from '../migration-progress';

const DELIMITER = '/';
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f*%]/g;

/** A level that points elsewhere on a synchronising client's disk, or cannot be sent on the wire, made harmless. */
function repairLevel(level: string, first: boolean): string {
  let out = level.replace(FORBIDDEN, '_');
  if (out === '.' || out === '..' || (first && out.startsWith('~'))) out = `_${out}`;
  return out;
}

/**
 * New names for the folders of one mailbox whose names the store now refuses (libs/mail-store message-rules.ts):
 * empty levels dropped, `.`/`..` levels and a leading `~` prefixed with `_`, control characters, `*` and `%` replaced.
 * A folder under a renamed one moves with it; a name already taken gets ` (2)`, ` (3)`, … Returns old → new.
 */
export function repairFolderNames(names: readonly string[]): Map<string, string> {
  const taken = new Set(names);
  const renamed = new Map<string, string>();
  // Parents before children, so a child follows its parent's new name.
  const order = [...names].sort((a, b) => a.split(DELIMITER).length - b.split(DELIMITER).length || (a < b ? -1 : 1));
  const prefixOf = (levels: string[]): string => {
    let out = '';
    for (let i = 0; i < levels.length; i++) {
      const old = levels.slice(0, i + 1).join(DELIMITER);
      const known = renamed.get(old);
      if (known !== undefined) {
        out = known;
        continue;
      }
      if (levels[i].length === 0) continue;
      const level = repairLevel(levels[i], out === '');
      out = out === '' ? level : out + DELIMITER + level;
    }
    return out;
  };
  for (const name of order) {
    const levels = name.split(DELIMITER);
    let next = prefixOf(levels);
    if (next === '') next = '_';
    if (next === name) continue;
    if (taken.has(next)) {
      let n = 2;
      while (taken.has(`${next} (${n})`)) n++;
      next = `${next} (${n})`;
    }
    taken.add(next);
    renamed.set(name, next);
  }
  return renamed;
}

/** Whether a stored name is one the store refuses today (the migration's filter; same rules as message-rules.ts). */
function isBadName(name: string): boolean {
  const levels = name.split(DELIMITER);
  FORBIDDEN.lastIndex = 0;
  return FORBIDDEN.test(name) || name.startsWith('~') || levels.some((l) => l === '' || l === '.' || l === '..');
}

/**
 * Folder names with an empty, `.` or `..` level, a leading `~` or separator, or control characters were accepted by
 * CREATE and RENAME; mbsync and offlineimap map folder names to local paths, so such a name let a mailbox write outside
 * the user's mail directory. The store refuses them now; this renames the ones already stored (and subscriptions to
 * them), reporting each rename to the migration's log. `down` leaves the new names: the old ones are the defect.
 */
export class FolderNameRepair1765300000000 implements MigrationInterface {
  name = 'FolderNameRepair1765300000000';

  async up(q: QueryRunner): Promise<void> {
    // Candidates by a cheap pattern; isBadName decides.
    const candidates: Array<{ mailbox_id: string }> = await q.query(
      `SELECT DISTINCT mailbox_id FROM (
         SELECT mailbox_id, name FROM folder UNION ALL SELECT mailbox_id, name FROM folder_subscription
       ) n
       WHERE name ~ '(^|/)\\.{1,2}(/|$)' OR name ~ '^~' OR name ~ '(^/|//|/$)' OR name ~ '[\\x01-\\x1f\\x7f*%]'`,
    );
    const total = candidates.length;
    let done = 0;
    for (const { mailbox_id: mailboxId } of candidates) {
      done++;
      const folders: Array<{ id: string; name: string }> = await q.query(`SELECT id, name FROM folder WHERE mailbox_id = $1`, [mailboxId]);
      const subscriptions: Array<{ name: string }> = await q.query(`SELECT name FROM folder_subscription WHERE mailbox_id = $1`, [mailboxId]);
      const all = [...folders.map((f) => f.name), ...subscriptions.map((s) => s.name)];
      const renames = repairFolderNames([...new Set(all)]);
      // Two passes through temporary names: a new name may be the old name of a folder renamed in the same run.
      const moves = folders.filter((f) => renames.has(f.name));
      for (const f of moves) await q.query(`UPDATE folder SET name = $2 WHERE id = $1`, [f.id, `#rename:${f.id}`]);
      for (const f of moves) {
        const to = renames.get(f.name)!;
        await q.query(`UPDATE folder SET name = $2 WHERE id = $1`, [f.id, to]);
        reportMigrationProgress({ migration: this.name, done, total, detail: { mailboxId, folderId: f.id, from: f.name, to } });
      }
      for (const s of subscriptions) {
        const to = renames.get(s.name);
        if (to === undefined || !isBadName(s.name)) continue;
        await q.query(`DELETE FROM folder_subscription WHERE mailbox_id = $1 AND name = $2`, [mailboxId, s.name]);
        await q.query(`INSERT INTO folder_subscription (mailbox_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [mailboxId, to]);
        reportMigrationProgress({ migration: this.name, done, total, detail: { mailboxId, subscription: s.name, to } });
      }
    }
  }

  async down(): Promise<void> {
    // Nothing to undo: see above.
  }
}
