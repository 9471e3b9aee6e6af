import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenancy, identity, audit and import bookkeeping: the ground the mail parts stand on. */
export class Foundation1764201600000 implements MigrationInterface {
  name = 'Foundation1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`
      CREATE TABLE tenant (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        plan text NOT NULL DEFAULT 'standard',
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
        max_domains integer CHECK (max_domains >= 0),
        max_mailboxes integer CHECK (max_mailboxes >= 0),
        max_storage_bytes bigint CHECK (max_storage_bytes >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX tenant_name_key ON tenant (lower(name))`);

    await q.query(`
      CREATE TABLE domain (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
        name text NOT NULL UNIQUE,
        unicode_name text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        helo_name text,
        max_storage_bytes bigint CHECK (max_storage_bytes >= 0),
        max_mailboxes integer CHECK (max_mailboxes >= 0),
        is_default boolean NOT NULL DEFAULT false,
        allow_registration boolean NOT NULL DEFAULT false,
        smtp_enabled boolean NOT NULL DEFAULT true,
        pop3_enabled boolean NOT NULL DEFAULT true,
        imap_enabled boolean NOT NULL DEFAULT true,
        local_only boolean NOT NULL DEFAULT false,
        mailbox_default_quota_bytes bigint NOT NULL DEFAULT 1073741824 CHECK (mailbox_default_quota_bytes >= 0),
        mailbox_max_quota_bytes bigint CHECK (mailbox_max_quota_bytes >= 0),
        mailbox_daily_send_limit integer CHECK (mailbox_daily_send_limit >= 0),
        dkim_selector text NOT NULL DEFAULT 'dizi',
        dkim_private_key text,
        dkim_public_key text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX domain_tenant_idx ON domain (tenant_id)`);
    await q.query(`CREATE UNIQUE INDEX domain_single_default_key ON domain (is_default) WHERE is_default`);

    await q.query(`
      CREATE TABLE mailbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
        domain_id uuid NOT NULL REFERENCES domain (id) ON DELETE CASCADE,
        local_part text NOT NULL,
        address text NOT NULL UNIQUE,
        display_name text NOT NULL DEFAULT '',
        role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'domain_admin', 'tenant_admin')),
        password_hash text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
        may_send_outside boolean NOT NULL DEFAULT true,
        quota_bytes bigint NOT NULL CHECK (quota_bytes >= 0),
        used_bytes bigint NOT NULL DEFAULT 0,
        message_count integer NOT NULL DEFAULT 0,
        daily_send_limit integer CHECK (daily_send_limit >= 0),
        token_version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX mailbox_domain_local_key ON mailbox (domain_id, local_part)`);
    await q.query(`CREATE INDEX mailbox_tenant_idx ON mailbox (tenant_id)`);
    await q.query(`CREATE INDEX mailbox_local_trgm_idx ON mailbox USING gin (local_part gin_trgm_ops)`);
    await q.query(`CREATE INDEX mailbox_display_name_trgm_idx ON mailbox USING gin (lower(display_name) gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE alias (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
        domain_id uuid NOT NULL REFERENCES domain (id) ON DELETE CASCADE,
        local_part text NOT NULL,
        address text NOT NULL UNIQUE,
        destinations text[] NOT NULL CHECK (cardinality(destinations) > 0),
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX alias_domain_idx ON alias (domain_id)`);

    await q.query(`
      CREATE TABLE mail_group (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
        domain_id uuid NOT NULL REFERENCES domain (id) ON DELETE CASCADE,
        local_part text NOT NULL,
        address text NOT NULL UNIQUE,
        name text NOT NULL DEFAULT '',
        description text NOT NULL DEFAULT '',
        posting_policy text NOT NULL DEFAULT 'members'
          CHECK (posting_policy IN ('anyone', 'same_domain', 'local', 'authenticated', 'members', 'listed')),
        allowed_senders text[] NOT NULL DEFAULT '{}',
        keep_copy boolean NOT NULL DEFAULT false,
        rewrite_recipient boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX mail_group_domain_idx ON mail_group (domain_id)`);
    await q.query(`
      CREATE TABLE mail_group_member (
        group_id uuid NOT NULL REFERENCES mail_group (id) ON DELETE CASCADE,
        member text NOT NULL,
        PRIMARY KEY (group_id, member)
      )`);

    await q.query(`
      CREATE TABLE address_book (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid REFERENCES tenant (id) ON DELETE CASCADE,
        domain_id uuid REFERENCES domain (id) ON DELETE CASCADE,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((tenant_id IS NULL) = (domain_id IS NULL))
      )`);
    await q.query(`CREATE INDEX address_book_domain_idx ON address_book (domain_id)`);
    await q.query(`
      CREATE TABLE contact (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        book_id uuid NOT NULL REFERENCES address_book (id) ON DELETE CASCADE,
        display_name text NOT NULL DEFAULT '',
        email text NOT NULL,
        phone text NOT NULL DEFAULT '',
        organization text NOT NULL DEFAULT '',
        title text NOT NULL DEFAULT '',
        notes text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX contact_book_idx ON contact (book_id, lower(display_name))`);

    await q.query(`
      CREATE TABLE operator_account (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username text NOT NULL UNIQUE,
        display_name text NOT NULL DEFAULT '',
        password_hash text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
        token_version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE refresh_token (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subject_kind text NOT NULL CHECK (subject_kind IN ('mailbox', 'operator-account')),
        subject_id uuid NOT NULL,
        token_hash bytea NOT NULL UNIQUE,
        token_version integer NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_token_subject_idx ON refresh_token (subject_kind, subject_id)`);

    await q.query(`
      CREATE TABLE api_key (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        tenant_id uuid REFERENCES tenant (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('operator', 'tenant_admin')),
        prefix text NOT NULL UNIQUE,
        key_hash bytea NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz,
        CHECK ((role = 'operator') = (tenant_id IS NULL))
      )`);

    await q.query(`
      CREATE TABLE audit_event (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_kind text NOT NULL,
        actor_id text NOT NULL,
        actor_name text NOT NULL,
        actor_role text NOT NULL,
        ip text,
        tenant_id uuid,
        action text NOT NULL,
        object_type text NOT NULL,
        object_id text,
        before jsonb,
        after jsonb
      )`);
    await q.query(`CREATE INDEX audit_event_at_idx ON audit_event (at DESC)`);
    await q.query(`CREATE INDEX audit_event_tenant_at_idx ON audit_event (tenant_id, at DESC)`);

    await q.query(`
      CREATE TABLE system_key (
        purpose text PRIMARY KEY,
        algorithm text NOT NULL,
        public_key text NOT NULL,
        private_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE registration_code (
        id uuid PRIMARY KEY,
        domain text NOT NULL,
        max_domains integer NOT NULL CHECK (max_domains >= 1),
        max_mailboxes integer NOT NULL CHECK (max_mailboxes >= 1),
        expires_at timestamptz,
        issued_by text NOT NULL,
        issued_at timestamptz NOT NULL DEFAULT now(),
        tenant_id uuid REFERENCES tenant (id) ON DELETE SET NULL,
        redeemed_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX registration_code_tenant_key ON registration_code (tenant_id) WHERE tenant_id IS NOT NULL AND revoked_at IS NULL`);

    await q.query(`
      CREATE TABLE import_job (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
        domain_id uuid REFERENCES domain (id) ON DELETE CASCADE,
        kind text NOT NULL,
        status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
        processed integer NOT NULL DEFAULT 0,
        created integer NOT NULL DEFAULT 0,
        skipped integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        error text,
        started_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        heartbeat_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE import_job_row (
        job_id uuid NOT NULL REFERENCES import_job (id) ON DELETE CASCADE,
        line integer NOT NULL,
        address text NOT NULL DEFAULT '',
        outcome text NOT NULL CHECK (outcome IN ('created', 'skipped', 'failed')),
        reason text NOT NULL DEFAULT '',
        PRIMARY KEY (job_id, line)
      )`);

    await q.query(`
      CREATE TABLE system_setting (
        key text PRIMARY KEY,
        value jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'system_setting', 'import_job_row', 'import_job', 'registration_code', 'system_key', 'audit_event', 'api_key',
      'refresh_token', 'operator_account', 'contact', 'address_book', 'mail_group_member', 'mail_group', 'alias',
      'mailbox', 'domain', 'tenant',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
