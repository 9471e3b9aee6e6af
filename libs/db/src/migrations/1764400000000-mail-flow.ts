import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The mail flow (ARCHITECTURE.md "Inbound mail"): the durable spool SMTP commits before answering
 * 250, one row per recipient that the delivery and outbound workers drive to a final state, and
 * the per-mailbox settings, routes, counters and logs around it.
 */
export class MailFlow1764400000000 implements MigrationInterface {
  name = 'MailFlow1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE spool_message (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        blob_hash text NOT NULL REFERENCES blob (hash),
        size bigint NOT NULL,
        mail_from text NOT NULL,
        source text NOT NULL CHECK (source IN ('smtp', 'submission', 'system')),
        session_id text,
        client_ip text,
        helo text,
        auth_mailbox_id uuid REFERENCES mailbox (id) ON DELETE SET NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        auth_results text,
        spam_score real,
        env_id text,
        dsn_ret text CHECK (dsn_ret IN ('FULL', 'HDRS')),
        summary jsonb,
        done_at timestamptz
      )`);
    await q.query(`CREATE INDEX spool_message_open_idx ON spool_message (received_at) WHERE done_at IS NULL`);
    // A spooled message holds its blob like a stored message does, so garbage collection never takes it.
    await q.query(`
      CREATE TRIGGER spool_message_blob_refcount_insert AFTER INSERT ON spool_message
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION message_blob_refcount()`);
    await q.query(`
      CREATE TRIGGER spool_message_blob_refcount_delete AFTER DELETE ON spool_message
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION message_blob_refcount()`);

    await q.query(`
      CREATE TABLE spool_recipient (
        id bigserial PRIMARY KEY,
        message_id uuid NOT NULL REFERENCES spool_message (id) ON DELETE CASCADE,
        address text NOT NULL,
        original_address text,
        kind text NOT NULL CHECK (kind IN ('local', 'remote')),
        domain text NOT NULL,
        status text NOT NULL DEFAULT 'queued'
          CHECK (status IN ('queued', 'deferred', 'delivered', 'bounced', 'failed', 'deleted')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_attempt_at timestamptz,
        last_error text,
        last_reply text,
        delivered_at timestamptz,
        dsn_notify text,
        delay_notified boolean NOT NULL DEFAULT false,
        UNIQUE (message_id, address)
      )`);
    await q.query(`CREATE INDEX spool_recipient_due_idx ON spool_recipient (next_attempt_at) WHERE status IN ('queued', 'deferred')`);
    await q.query(`CREATE INDEX spool_recipient_domain_idx ON spool_recipient (domain) WHERE status IN ('queued', 'deferred')`);

    // Per-mailbox delivery settings: forwarding and the RFC 3834 auto-reply.
    await q.query(`
      CREATE TABLE mailbox_delivery (
        mailbox_id uuid PRIMARY KEY REFERENCES mailbox (id) ON DELETE CASCADE,
        forward_to text[] NOT NULL DEFAULT '{}',
        forward_keep_copy boolean NOT NULL DEFAULT true,
        auto_reply_enabled boolean NOT NULL DEFAULT false,
        auto_reply_subject text NOT NULL DEFAULT '',
        auto_reply_body text NOT NULL DEFAULT '',
        auto_reply_starts_at timestamptz,
        auto_reply_ends_at timestamptz,
        quota_warned_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE auto_reply_sent (
        mailbox_id uuid NOT NULL REFERENCES mailbox (id) ON DELETE CASCADE,
        sender text NOT NULL,
        sent_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (mailbox_id, sender)
      )`);

    // Messages a mailbox sent per day, for the daily send limit.
    await q.query(`
      CREATE TABLE send_count (
        mailbox_id uuid NOT NULL REFERENCES mailbox (id) ON DELETE CASCADE,
        day date NOT NULL,
        messages integer NOT NULL DEFAULT 0,
        PRIMARY KEY (mailbox_id, day)
      )`);

    // Fixed routes for destination domains (transport map), checked before the MX lookup.
    await q.query(`
      CREATE TABLE transport_route (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        domain text NOT NULL UNIQUE,
        host text NOT NULL,
        port integer NOT NULL DEFAULT 25 CHECK (port BETWEEN 1 AND 65535),
        require_tls boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    // SMTP sessions and delivery attempts, queryable by operators, kept for the retention setting.
    await q.query(`
      CREATE TABLE mail_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        level text NOT NULL CHECK (level IN ('info', 'warn', 'error')),
        kind text NOT NULL CHECK (kind IN ('session', 'delivery', 'outbound', 'bounce')),
        node text NOT NULL,
        session_id text,
        message_id uuid,
        client_ip text,
        helo text,
        mail_from text,
        recipients text[] NOT NULL DEFAULT '{}',
        size bigint,
        result text NOT NULL,
        reason text NOT NULL DEFAULT '',
        tenant_id uuid,
        -- sender, recipients and reason in lower case, written with the row, for the operators' text filter
        search text NOT NULL DEFAULT ''
      )`);
    await q.query(`CREATE INDEX mail_log_at_idx ON mail_log (at DESC)`);
    await q.query(`CREATE INDEX mail_log_message_idx ON mail_log (message_id)`);
    await q.query(`CREATE INDEX mail_log_search_idx ON mail_log USING gin (search gin_trgm_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['mail_log', 'transport_route', 'send_count', 'auto_reply_sent', 'mailbox_delivery', 'spool_recipient', 'spool_message']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
