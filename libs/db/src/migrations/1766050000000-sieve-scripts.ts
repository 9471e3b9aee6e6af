import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sieve scripts at three levels (issue 18): the operator's global scripts, each domain's, each mailbox's. One table,
 * the owner columns saying the level; names are unique per owner and at most one script per owner is active (the one
 * delivery runs, ManageSieve's SETACTIVE). `final` on a global or domain script: once it acted, lower levels do not run.
 */
export class SieveScripts1766050000000 implements MigrationInterface {
  name = 'SieveScripts1766050000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sieve_script (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        level text NOT NULL CHECK (level IN ('global', 'domain', 'mailbox')),
        domain_id uuid REFERENCES domain (id) ON DELETE CASCADE,
        mailbox_id uuid REFERENCES mailbox (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
        content text NOT NULL,
        active boolean NOT NULL DEFAULT false,
        final boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((level = 'global' AND domain_id IS NULL AND mailbox_id IS NULL)
            OR (level = 'domain' AND domain_id IS NOT NULL AND mailbox_id IS NULL)
            OR (level = 'mailbox' AND mailbox_id IS NOT NULL AND domain_id IS NULL)),
        CHECK (level <> 'mailbox' OR NOT final)
      )`);
    const owner = `coalesce(mailbox_id, domain_id, '00000000-0000-0000-0000-000000000000'::uuid)`;
    await q.query(`CREATE UNIQUE INDEX sieve_script_name ON sieve_script (level, (${owner}), name)`);
    await q.query(`CREATE UNIQUE INDEX sieve_script_active ON sieve_script (level, (${owner})) WHERE active`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sieve_script`);
  }
}
