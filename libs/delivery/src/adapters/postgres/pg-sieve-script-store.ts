/** SieveScriptStore on PostgreSQL (table sieve_script, migration 1766050000000). */
import type { Pool } from 'pg';
import {
  SieveScriptActiveError, SieveScriptExistsError, SieveScriptNotFoundError, type ActiveSieveScript, type SieveLevel, type SieveOwner,
  type SieveScriptInfo, type SieveScriptRecord, type SieveScriptStore,
} from '../../ports/sieve-script-store';

interface ScriptRow {
  id: string;
  name: string;
  active: boolean;
  final: boolean;
  size: number;
  updated_at: Date;
  content?: string;
}

const INFO = `id, name, active, final, octet_length(content) AS size, updated_at`;
const infoOf = (r: ScriptRow): SieveScriptInfo => ({ id: r.id, name: r.name, active: r.active, final: r.final, size: Number(r.size), updatedAt: r.updated_at });

/** The WHERE clause naming one owner's scripts, its parameters from $1. */
function ownerWhere(o: SieveOwner): { sql: string; params: unknown[] } {
  if (o.level === 'global') return { sql: `level = 'global'`, params: [] };
  if (o.level === 'domain') return { sql: `level = 'domain' AND domain_id = $1`, params: [o.domainId] };
  return { sql: `level = 'mailbox' AND mailbox_id = $1`, params: [o.mailboxId] };
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

export class PgSieveScriptStore implements SieveScriptStore {
  constructor(private readonly pool: Pick<Pool, 'query' | 'connect'>) {}

  async list(owner: SieveOwner): Promise<SieveScriptInfo[]> {
    const w = ownerWhere(owner);
    const { rows } = await this.pool.query<ScriptRow>(`SELECT ${INFO} FROM sieve_script WHERE ${w.sql} ORDER BY name`, w.params);
    return rows.map(infoOf);
  }

  async get(owner: SieveOwner, name: string): Promise<SieveScriptRecord | null> {
    const w = ownerWhere(owner);
    const { rows: [r] } = await this.pool.query<ScriptRow>(
      `SELECT ${INFO}, content FROM sieve_script WHERE ${w.sql} AND name = $${w.params.length + 1}`, [...w.params, name]);
    return r ? { ...infoOf(r), content: r.content! } : null;
  }

  async put(owner: SieveOwner, name: string, content: string, opts: { final?: boolean } = {}): Promise<SieveScriptInfo> {
    const final = owner.level === 'mailbox' ? false : opts.final ?? null;
    const domainId = owner.level === 'domain' ? owner.domainId : null;
    const mailboxId = owner.level === 'mailbox' ? owner.mailboxId : null;
    const w = ownerWhere(owner);
    const n = w.params.length;
    // Update first: the unique index is on an expression, which ON CONFLICT cannot name portably.
    const { rows: [updated] } = await this.pool.query<ScriptRow>(
      `UPDATE sieve_script SET content = $${n + 2}, final = coalesce($${n + 3}::boolean, final), updated_at = clock_timestamp()
        WHERE ${w.sql} AND name = $${n + 1} RETURNING ${INFO}`, [...w.params, name, content, final]);
    if (updated) return infoOf(updated);
    try {
      const { rows: [r] } = await this.pool.query<ScriptRow>(
        `INSERT INTO sieve_script (level, domain_id, mailbox_id, name, content, final) VALUES ($1, $2, $3, $4, $5, coalesce($6::boolean, false))
         RETURNING ${INFO}`, [owner.level, domainId, mailboxId, name, content, final]);
      return infoOf(r);
    } catch (err) {
      if (isUniqueViolation(err)) return this.put(owner, name, content, opts); // a concurrent PUT created it: replace it
      throw err;
    }
  }

  async setActive(owner: SieveOwner, name: string | null): Promise<void> {
    const w = ownerWhere(owner);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE sieve_script SET active = false WHERE ${w.sql} AND active`, w.params);
      if (name !== null) {
        const r = await client.query(`UPDATE sieve_script SET active = true WHERE ${w.sql} AND name = $${w.params.length + 1}`, [...w.params, name]);
        if (r.rowCount === 0) throw new SieveScriptNotFoundError(name);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async rename(owner: SieveOwner, from: string, to: string): Promise<void> {
    const w = ownerWhere(owner);
    const n = w.params.length;
    try {
      const r = await this.pool.query(`UPDATE sieve_script SET name = $${n + 2}, updated_at = clock_timestamp() WHERE ${w.sql} AND name = $${n + 1}`,
        [...w.params, from, to]);
      if (r.rowCount === 0) throw new SieveScriptNotFoundError(from);
    } catch (err) {
      if (isUniqueViolation(err)) throw new SieveScriptExistsError(to);
      throw err;
    }
  }

  async delete(owner: SieveOwner, name: string): Promise<void> {
    const w = ownerWhere(owner);
    const { rows: [r] } = await this.pool.query<{ active: boolean; deleted: boolean }>(
      `WITH found AS (SELECT id, active FROM sieve_script WHERE ${w.sql} AND name = $${w.params.length + 1}),
            gone AS (DELETE FROM sieve_script s USING found WHERE s.id = found.id AND NOT found.active RETURNING s.id)
       SELECT found.active, EXISTS (SELECT 1 FROM gone) AS deleted FROM found`, [...w.params, name]);
    if (!r) throw new SieveScriptNotFoundError(name);
    if (!r.deleted) throw new SieveScriptActiveError(name);
  }

  async contents(owner: SieveOwner): Promise<Map<string, string>> {
    const w = ownerWhere(owner);
    const { rows } = await this.pool.query<{ name: string; content: string }>(`SELECT name, content FROM sieve_script WHERE ${w.sql}`, w.params);
    return new Map(rows.map((r) => [r.name, r.content]));
  }

  async activeScripts(mailboxIds: string[]): Promise<Map<string, ActiveSieveScript[]>> {
    const out = new Map<string, ActiveSieveScript[]>();
    if (mailboxIds.length === 0) return out;
    const { rows } = await this.pool.query<{
      mailbox_id: string; id: string; level: SieveLevel; owner_id: string | null; name: string; content: string; final: boolean; updated_at: Date;
    }>(
      `SELECT m.id AS mailbox_id, s.id, s.level, coalesce(s.domain_id, s.mailbox_id) AS owner_id, s.name, s.content, s.final, s.updated_at
         FROM mailbox m
         JOIN sieve_script s ON s.active AND (s.level = 'global' OR (s.level = 'domain' AND s.domain_id = m.domain_id)
                                              OR (s.level = 'mailbox' AND s.mailbox_id = m.id))
        WHERE m.id = ANY($1::uuid[])
        ORDER BY m.id, CASE s.level WHEN 'global' THEN 0 WHEN 'domain' THEN 1 ELSE 2 END`, [mailboxIds]);
    for (const r of rows) {
      const list = out.get(r.mailbox_id) ?? [];
      list.push({ id: r.id, level: r.level, ownerId: r.owner_id, name: r.name, content: r.content, final: r.final, updatedAt: r.updated_at });
      out.set(r.mailbox_id, list);
    }
    return out;
  }
}
