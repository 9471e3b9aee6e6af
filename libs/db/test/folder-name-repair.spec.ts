/** The migration renaming stored folder names that point outside a synchronising client's mail directory. */
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/data-source';
import type { MigrationProgress } from '../src/migration-progress';
import { FolderNameRepair1765300000000, repairFolderNames } from '../src/migrations/1765300000000-folder-name-repair';
import { schemaBefore, seedMailbox, type SchemaBefore } from './schema-before';


const BAD = ['../escape', '..', '../escape/inner', 'a/../../x', '~/x', '~', '.', 'a//b', '/lead', 'trail/', 'ctl\u0001name', '_..'];
const GOOD = ['Projects', 'Projects/2026', '.hidden', 'a..b', 'x~', '工作/项目'];

describe('FolderNameRepair migration', () => {
  let schema: SchemaBefore;
  let db: DataSource;
  let mailboxId: string;

  beforeAll(async () => {
    schema = await schemaBefore(FolderNameRepair1765300000000);
    const { old } = schema;
    mailboxId = await seedMailbox(old, 'names.test');
    // As the old CREATE and RENAME stored them.
    for (const [i, folder] of [...BAD, ...GOOD].entries()) {
      await old.query(`INSERT INTO folder (mailbox_id, name, uid_validity) VALUES ($1, $2, $3)`, [mailboxId, folder, 1000 + i]);
    }
    await old.query(`INSERT INTO folder_subscription (mailbox_id, name) VALUES ($1, '../gone'), ($1, 'Fine')`, [mailboxId]);
    db = await schema.reopen();
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('renames every folder with a bad name (children follow their parent), keeps the good ones, and logs each rename', async () => {
    const seen: MigrationProgress[] = [];
    const ids = new Map<string, string>(
      (await db.query(`SELECT name, id FROM folder WHERE mailbox_id = $1`, [mailboxId])).map((r: { name: string; id: string }) => [r.name, r.id]),
    );
    await migrate(db, (p) => seen.push(p));
    const rows: Array<{ id: string; name: string }> = await db.query(`SELECT id, name FROM folder WHERE mailbox_id = $1`, [mailboxId]);
    const byId = new Map(rows.map((r) => [r.id, r.name]));
    const now = (old: string) => byId.get(ids.get(old)!);

    for (const good of GOOD) expect(now(good)).toBe(good);
    // `_..` was taken already; what was inside `..` follows it.
    expect(now('..')).toBe('_.. (2)');
    expect(now('_..')).toBe('_..');
    expect(now('../escape')).toBe('_.. (2)/escape');
    expect(now('../escape/inner')).toBe('_.. (2)/escape/inner');
    expect(now('a/../../x')).toBe('a/_../_../x');
    expect(now('~/x')).toBe('_~/x');
    expect(now('~')).toBe('_~');
    expect(now('.')).toBe('_.');
    expect(now('a//b')).toBe('a/b');
    expect(now('/lead')).toBe('lead');
    expect(now('trail/')).toBe('trail');
    expect(now('ctl\u0001name')).toBe('ctl_name');
    // Nothing left that the store refuses.
    for (const r of rows) {
      expect(r.name.split('/').every((l) => l !== '' && l !== '.' && l !== '..')).toBe(true);
      expect(r.name.startsWith('~')).toBe(false);
    }
    const subs = (await db.query(`SELECT name FROM folder_subscription WHERE mailbox_id = $1 ORDER BY name`, [mailboxId])).map((r: { name: string }) => r.name);
    expect(subs).toEqual(['Fine', '_.. (2)/gone']);
    const logged = seen.filter((p) => p.migration === 'FolderNameRepair1765300000000' && p.detail);
    expect(logged.map((p) => p.detail?.from ?? p.detail?.subscription).sort()).toEqual([...BAD.filter((b) => b !== '_..'), '../gone'].sort());
    expect(logged.find((p) => p.detail?.from === '~/x')?.detail).toMatchObject({ mailboxId, to: '_~/x' });
  });

  it('maps names the same way without a database', () => {
    expect([...repairFolderNames(['a', '~a', '_~a']).entries()]).toEqual([['~a', '_~a (2)']]);
    expect(repairFolderNames(['Projects', 'INBOX']).size).toBe(0);
  });
});
