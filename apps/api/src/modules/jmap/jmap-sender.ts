/**
 * JMAP EmailSubmission through the submission service (libs/delivery): the SMTP refusal it throws becomes the
 * SetError type RFC 8621 §7.5 names for it. Submissions are stored in email_submission (one row per spooled
 * message, MODSEQ from one sequence), so /get, /query and /changes answer from PostgreSQL; a pending one's message
 * is held in the spool (release_at) and cancelled there and here in one transaction.
 */
import type { Pool } from 'pg';
import { cancelHeldMessage } from '@dizi/delivery/adapters/postgres/held-messages';
import type { Submission } from '@dizi/delivery/submission/submission.service';
import { setError, type SetError } from '@dizi/jmap/errors';
import {
  SUBMISSION_TTL_SECONDS, type JmapSender, type JmapSendRequest, type StoredSubmission, type SubmissionFilter, type SubmissionSort,
} from '@dizi/jmap/submissions';
import { SmtpReplyError } from '@dizi/smtp/inbound/verdict';

interface Row {
  id: string;
  identity_id: string;
  email_id: string;
  thread_id: string;
  envelope: StoredSubmission['envelope'];
  send_at: Date;
  undo_status: StoredSubmission['undoStatus'];
}

const COLUMNS = 'id, identity_id, email_id, thread_id, envelope, send_at, undo_status';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SORT_COLUMNS: Record<SubmissionSort['property'], string> = { emailId: 'email_id', threadId: 'thread_id', sentAt: 'send_at' };

const utc = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

function view(r: Row): StoredSubmission {
  return { id: r.id, identityId: r.identity_id, emailId: r.email_id, threadId: r.thread_id, envelope: r.envelope, sendAt: utc(r.send_at), undoStatus: r.undo_status };
}

export class SubmissionSender implements JmapSender {
  constructor(private readonly submission: Submission, private readonly pool: Pool) {}

  async send(req: JmapSendRequest): Promise<{ id: string }> {
    try {
      const { id } = await this.submission.submit({
        user: { mailboxId: req.mailboxId, address: req.address },
        envelope: { mailFrom: req.mailFrom, rcptTo: req.rcptTo },
        message: req.message,
        via: 'jmap',
        releaseAt: req.releaseAt ?? null,
      });
      return { id };
    } catch (err) {
      if (err instanceof SmtpReplyError) throw submissionSetError(err);
      throw err;
    }
  }

  async record(mailboxId: string, s: StoredSubmission): Promise<void> {
    await this.pool.query(
      `WITH n AS (SELECT nextval('email_submission_modseq') AS v)
       INSERT INTO email_submission (id, mailbox_id, identity_id, email_id, thread_id, envelope, send_at, undo_status, created_modseq, modseq)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, n.v, n.v FROM n`,
      [s.id, mailboxId, s.identityId, s.emailId, s.threadId, JSON.stringify(s.envelope), s.sendAt, s.undoStatus],
    );
  }

  async settle(mailboxId: string): Promise<void> {
    await this.pool.query(
      `UPDATE email_submission SET undo_status = 'final', modseq = nextval('email_submission_modseq')
        WHERE mailbox_id = $1 AND undo_status = 'pending' AND send_at <= now()`,
      [mailboxId],
    );
    await this.pool.query(
      `UPDATE email_submission SET destroyed = true, modseq = nextval('email_submission_modseq')
        WHERE mailbox_id = $1 AND NOT destroyed AND undo_status <> 'pending' AND send_at < now() - make_interval(secs => $2)`,
      [mailboxId, SUBMISSION_TTL_SECONDS],
    );
  }

  async find(mailboxId: string, ids: string[]): Promise<StoredSubmission[]> {
    const valid = ids.filter((id) => UUID.test(id));
    if (valid.length === 0) return [];
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM email_submission WHERE mailbox_id = $1 AND id = ANY($2::uuid[]) AND NOT destroyed`,
      [mailboxId, valid],
    );
    // In the order asked for.
    const byId = new Map(rows.map((r) => [r.id, view(r)]));
    return [...new Set(valid)].map((id) => byId.get(id)).filter((s): s is StoredSubmission => s !== undefined);
  }

  async state(mailboxId: string): Promise<string> {
    const { rows } = await this.pool.query<{ s: string | null }>(`SELECT max(modseq)::text AS s FROM email_submission WHERE mailbox_id = $1`, [mailboxId]);
    return rows[0]?.s ?? '0';
  }

  async query(mailboxId: string, f: SubmissionFilter, sort: SubmissionSort[], position: number, limit: number): Promise<{ ids: string[]; total: number }> {
    const where = ['mailbox_id = $1', 'NOT destroyed'];
    const params: unknown[] = [mailboxId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.identityIds) add('identity_id = ANY(?::text[])', f.identityIds);
    if (f.emailIds) add('email_id = ANY(?::text[])', f.emailIds);
    if (f.threadIds) add('thread_id = ANY(?::text[])', f.threadIds);
    if (f.undoStatus) add('undo_status = ?', f.undoStatus);
    if (f.before) add('send_at < ?::timestamptz', f.before);
    if (f.after) add('send_at >= ?::timestamptz', f.after);
    // Ties in the last key go by id, so pages never overlap.
    const order = [...sort.map((s) => `${SORT_COLUMNS[s.property]} ${s.isAscending ? 'ASC' : 'DESC'}`), 'id ASC'].join(', ');
    params.push(limit, position);
    const { rows } = await this.pool.query<{ id: string; total: string }>(
      `SELECT id, count(*) OVER () AS total FROM email_submission WHERE ${where.join(' AND ')}
        ORDER BY ${order} LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    let total = rows.length > 0 ? Number(rows[0].total) : 0;
    if (rows.length === 0 && position > 0) {
      const counted = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM email_submission WHERE ${where.join(' AND ')}`, params.slice(0, -2));
      total = Number(counted.rows[0].n);
    }
    return { ids: rows.map((r) => r.id), total };
  }

  async changes(mailboxId: string, since: string, max: number) {
    if (!/^\d{1,18}$/.test(since)) return null;
    const current = await this.state(mailboxId);
    if (BigInt(since) > BigInt(current)) return null;
    const { rows } = await this.pool.query<{ id: string; created: boolean; destroyed: boolean; modseq: string }>(
      `SELECT id, created_modseq > $2 AS created, destroyed, modseq::text FROM email_submission
        WHERE mailbox_id = $1 AND modseq > $2 ORDER BY modseq LIMIT $3`,
      [mailboxId, since, max + 1],
    );
    const hasMoreChanges = rows.length > max;
    const page = rows.slice(0, max);
    const created: string[] = [];
    const updated: string[] = [];
    const destroyed: string[] = [];
    for (const r of page) {
      if (r.destroyed) {
        if (!r.created) destroyed.push(r.id);
      } else (r.created ? created : updated).push(r.id);
    }
    return { created, updated, destroyed, newState: hasMoreChanges ? page[page.length - 1].modseq : current, hasMoreChanges };
  }

  async cancel(mailboxId: string, id: string): Promise<'canceled' | 'notPending' | 'notFound'> {
    if (!UUID.test(id)) return 'notFound';
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ undo_status: string }>(
        `SELECT undo_status FROM email_submission WHERE id = $1 AND mailbox_id = $2 AND NOT destroyed FOR UPDATE`,
        [id, mailboxId],
      );
      if (rows.length === 0) {
        await client.query('ROLLBACK');
        return 'notFound';
      }
      if (rows[0].undo_status !== 'pending' || (await cancelHeldMessage(client, id, mailboxId)) !== 'canceled') {
        await client.query('ROLLBACK');
        return 'notPending';
      }
      await client.query(
        `UPDATE email_submission SET undo_status = 'canceled', modseq = nextval('email_submission_modseq') WHERE id = $1`,
        [id],
      );
      await client.query('COMMIT');
      return 'canceled';
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async destroy(mailboxId: string, id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const { rowCount } = await this.pool.query(
      `UPDATE email_submission SET destroyed = true, modseq = nextval('email_submission_modseq') WHERE id = $1 AND mailbox_id = $2 AND NOT destroyed`,
      [id, mailboxId],
    );
    return (rowCount ?? 0) > 0;
  }
}

export function submissionSetError(err: SmtpReplyError): SetError {
  const { code, enhanced, text } = err.refusal;
  const description = `${code} ${enhanced} ${text}`;
  if (/^From: header/.test(text)) return setError('forbiddenFrom', description);
  if (/^Sender address rejected/.test(text) || /^Null sender/.test(text)) return setError('forbiddenMailFrom', description);
  if (enhanced === '5.3.4') return { ...setError('tooLarge', description), maxSize: Number(/at most (\d+)/.exec(text)?.[1] ?? 0) };
  if (enhanced === '4.5.3') return setError('tooManyRecipients', description);
  if (enhanced === '5.5.1') return setError('noRecipients', description);
  // Per recipient: "<address>: …".
  const address = /^([^\s:]+@[^\s:]+):/.exec(text)?.[1];
  if (address) return { ...setError('invalidRecipients', description), invalidRecipients: [address] };
  return setError('forbiddenToSend', description);
}
