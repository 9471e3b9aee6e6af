/**
 * CSV batch import of mailboxes, run in the background as an import job.
 *
 * Crash safety: every mailbox insert and every per-row outcome of one import happen in ONE
 * transaction, so a crash leaves nothing of the import behind and running it again is safe.
 * Progress counters are written from a separate connection, so they are visible while it runs.
 * The transaction holds an advisory lock keyed by the job id: a 'running' job whose lock is gone
 * (its process died) or whose heartbeat is older than 60 s reads as 'interrupted'.
 */
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { parse } from 'csv-parse';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { pipeline, Readable } from 'node:stream';
import { DataSource, QueryRunner } from 'typeorm';
import { hashPassword } from '@dizi/auth/password-hash';
import { DomainEntity } from '@dizi/db/entities/domain.entity';
import { ImportJobEntity, ImportJobRowEntity, ImportJobStatus } from '@dizi/db/entities/import-job.entity';
import type { Actor } from '@dizi/domain/policy';
import { ApiError, badRequest, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { isUuid, PolicyService } from '../auth/policy.service';
import { LimitsService } from '../tenants/limits.service';
import { ImportRowsQueryDto } from './dto';
import { isHeader, parseRow, ParsedRow } from './mailbox-csv';
import { requestWelcomeMail } from './welcome-mail';

export const MAILBOX_IMPORT_KIND = 'mailboxes';
/** First key of the per-job advisory lock (the second is hashtext(job id)). */
export const IMPORT_LOCK_CLASS = 716_200_170;
export const IMPORT_STALE_SECONDS = 60;
const HEARTBEAT_MS = 5_000;
/** Rows decided per batch for imports started over HTTP (progress is reported after each). */
const HTTP_BATCH_ROWS = 100;
const LOG_EVERY_ROWS = 10_000;
const HASH_CONCURRENCY = Math.max(2, availableParallelism());
const EXISTS = 'exists: a mailbox with this address is already there';

export interface ImportRequest {
  actor: Actor;
  ip: string | null;
  domain: DomainEntity;
  /** The CSV text, in chunks. */
  source: Readable | Iterable<string | Buffer> | AsyncIterable<string | Buffer>;
  /** Put rows of other domains into this one, keeping their local part. */
  rehome?: boolean;
  /** Rows per INSERT (and per progress update). */
  batchSize?: number;
}

export interface StartedImport {
  jobId: string;
  /** Settles (never rejects) when the job has finished, failed or been interrupted. */
  finished: Promise<ImportJobStatus>;
}

interface Counts {
  processed: number;
  created: number;
  skipped: number;
  failed: number;
  quotaBytes: number;
}

type Outcome = { line: number; address: string; outcome: 'created' | 'skipped' | 'failed'; reason: string };
type Candidate = { line: number; row: Extract<ParsedRow, { ok: true }>; hash?: string };
type Pending = Outcome | Candidate;

class ImportAborted extends Error {}

@Injectable()
export class MailboxImportService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('MailboxImport');
  private readonly running = new Map<string, { abort: AbortController; finished: Promise<ImportJobStatus> }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
    private readonly limits: LimitsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const marked = await this.markInterrupted();
    if (marked) this.logger.warn(`${marked} import job(s) found dead at start, marked interrupted`);
  }

  /** Stopping the API rolls running imports back (they read 'interrupted') rather than leaving them hanging. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const job of this.running.values()) job.abort.abort();
    await Promise.all([...this.running.values()].map((j) => j.finished));
  }

  /** The HTTP entry: the domain admin's check, then the job starts and its id is returned at once. */
  async startFromRequest(actor: Actor, ip: string, domainRef: string, body: unknown, rehome: boolean): Promise<{ jobId: string }> {
    const domain = await this.policy.domain(actor, domainRef, 'domain_admin');
    if (typeof body !== 'string') throw badRequest('send the CSV file as the request body with Content-Type: text/csv', 'body');
    if (!body.trim()) throw badRequest('the CSV file is empty', 'body');
    // Progress is written after each batch: a batch of 100 rows lets the console's progress bar move in small steps.
    const { jobId } = await this.start({ actor, ip, domain, source: chunks(body), rehome, batchSize: HTTP_BATCH_ROWS });
    return { jobId };
  }

  async start(request: ImportRequest): Promise<StartedImport> {
    const jobId = randomUUID();
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      // Taken before the job row exists, so the job never reads as running without a live owner.
      await runner.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [IMPORT_LOCK_CLASS, jobId]);
      // Six default folders for each of 100,000 mailboxes would double the import; the message store
      // creates them at the first use of each imported mailbox instead.
      await runner.query(`SET LOCAL dizi.defer_default_folders = 'on'`);
      await runner.query(
        `CREATE TEMP TABLE mailbox_import_staging (
           n integer PRIMARY KEY, line integer NOT NULL, local_part text NOT NULL, address text NOT NULL,
           display_name text NOT NULL, password_hash text NOT NULL, quota_bytes bigint NOT NULL
         ) ON COMMIT DROP`,
      );
      await this.dataSource.getRepository(ImportJobEntity).insert({
        id: jobId,
        tenantId: request.domain.tenantId,
        domainId: request.domain.id,
        kind: MAILBOX_IMPORT_KIND,
        status: 'running',
        processed: 0,
        created: 0,
        skipped: 0,
        failed: 0,
        error: null,
        startedBy: request.actor.name,
        finishedAt: null,
      });
    } catch (e) {
      await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
      throw e;
    }
    const abort = new AbortController();
    const finished = this.run(jobId, runner, request, abort.signal)
      .catch((e: Error): ImportJobStatus => {
        this.logger.error(`import ${jobId} ended badly: ${e.stack}`);
        return 'failed';
      })
      .finally(() => this.running.delete(jobId));
    this.running.set(jobId, { abort, finished });
    return { jobId, finished };
  }

  async job(actor: Actor, id: string) {
    const job = await this.loadJob(actor, id);
    return jobView(job);
  }

  async rows(actor: Actor, id: string, query: ImportRowsQueryDto) {
    const job = await this.loadJob(actor, id);
    const where = { jobId: job.id, ...(query.outcome ? { outcome: query.outcome } : {}) };
    const [rows, total] = await this.dataSource
      .getRepository(ImportJobRowEntity)
      .findAndCount({ where, order: { line: 'ASC' }, skip: query.offset, take: query.limit });
    return { items: rows.map(({ line, address, outcome, reason }) => ({ line, address, outcome, reason })), total, offset: query.offset, limit: query.limit };
  }

  /**
   * Marks dead jobs 'interrupted': heartbeat older than 60 s, or (mailbox imports) the owner's
   * advisory lock is gone, which happens the moment its process or connection dies.
   */
  async markInterrupted(jobId?: string): Promise<number> {
    const [, count] = await this.dataSource.query(
      `UPDATE import_job j SET status = 'interrupted', finished_at = now(), created = 0, skipped = 0, failed = 0,
              error = 'the import stopped before it finished (its process ended); nothing of it was saved; run it again'
        WHERE j.status = 'running' AND ($1::uuid IS NULL OR j.id = $1)
          AND (j.heartbeat_at < now() - make_interval(secs => $2)
               OR (j.kind = $3 AND NOT EXISTS (
                    SELECT 1 FROM pg_locks l
                     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                       AND l.classid = $4::int::oid AND l.objid = hashtext(j.id::text)::oid)))`,
      [jobId ?? null, IMPORT_STALE_SECONDS, MAILBOX_IMPORT_KIND, IMPORT_LOCK_CLASS],
    );
    return count;
  }

  private async loadJob(actor: Actor, id: string): Promise<ImportJobEntity> {
    const repo = this.dataSource.getRepository(ImportJobEntity);
    let job = isUuid(id) ? await repo.findOneBy({ id }) : null;
    if (!job) throw notFound('import job');
    this.policy.check(actor, { tenantId: job.tenantId, domainId: job.domainId }, 'domain_admin', 'import job');
    if (job.status === 'running' && (await this.markInterrupted(job.id))) job = await repo.findOneByOrFail({ id });
    return job;
  }

  private async run(jobId: string, runner: QueryRunner, request: ImportRequest, signal: AbortSignal): Promise<ImportJobStatus> {
    const { domain, actor } = request;
    const m = runner.manager;
    const batchSize = request.batchSize ?? 1000;
    const counts: Counts = { processed: 0, created: 0, skipped: 0, failed: 0, quotaBytes: 0 };
    const started = Date.now();
    let reporting: Promise<void> = Promise.resolve();
    const report = () => {
      reporting = reporting.then(() =>
        this.dataSource
          .query(
            `UPDATE import_job SET status = 'running', processed = $2, created = $3, skipped = $4, failed = $5, heartbeat_at = now() WHERE id = $1`,
            [jobId, counts.processed, counts.created, counts.skipped, counts.failed],
          )
          .then(
            () => undefined,
            (e: Error) => this.logger.warn(`import ${jobId}: progress not written: ${e.message}`),
          ),
      );
      return reporting;
    };
    const heartbeat = setInterval(() => void report(), HEARTBEAT_MS);
    const target = { domainName: domain.name, defaultQuotaBytes: domain.mailboxDefaultQuotaBytes, maxQuotaBytes: domain.mailboxMaxQuotaBytes, rehome: !!request.rehome };
    const seen = new Map<string, number>();

    let staged = 0;

    /** Decides a batch of rows: failed, skipped (exists) or to be created, which go to the staging table. */
    const flush = async (batch: Pending[]) => {
      if (!batch.length) return;
      const candidates = batch.filter((p): p is Candidate => 'row' in p);
      const addresses = candidates.map((c) => c.row.address);
      const takenRows: { address: string; kind: string }[] = addresses.length
        ? await m.query(
            `SELECT address, 'a mailbox' AS kind FROM mailbox WHERE address = ANY($1)
             UNION ALL SELECT address, 'an alias' FROM alias WHERE address = ANY($1)
             UNION ALL SELECT address, 'a group' FROM mail_group WHERE address = ANY($1)`,
            [addresses],
          )
        : [];
      const taken = new Map(takenRows.map((r) => [r.address, r.kind]));
      const fresh = candidates.filter((c) => !taken.has(c.row.address));
      if (fresh.length) {
        // Hashing is the expensive part (argon2id, ~25 ms a row): an import that cannot fit the tenant's
        // or domain's limits fails here, before spending it. In a short transaction of its own, so the
        // tenant lock is not held for the whole import; the final check below still decides.
        const quota = fresh.reduce((sum, c) => sum + c.row.quotaBytes, 0);
        try {
          await this.dataSource.transaction((lm) =>
            this.limits.assertCanAddMailboxes(lm, domain.tenantId, domain.id, { count: counts.created + fresh.length, quotaBytes: counts.quotaBytes + quota }),
          );
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          const count = counts.created + fresh.length;
          throw new ApiError(409, 'limit_reached', `the import's ${count} new mailboxes (${counts.quotaBytes + quota} bytes of quota) do not fit: ${e.message}; nothing was created`);
        }
        await mapLimit(fresh, HASH_CONCURRENCY, async (c) => {
          if (signal.aborted) throw new ImportAborted();
          c.hash = c.row.hash ?? (await hashPassword(c.row.password!));
        });
        await m.query(
          `INSERT INTO pg_temp.mailbox_import_staging (n, line, local_part, address, display_name, password_hash, quota_bytes)
           SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])`,
          [
            fresh.map((_, i) => staged + i + 1),
            fresh.map((c) => c.line),
            fresh.map((c) => c.row.localPart),
            fresh.map((c) => c.row.address),
            fresh.map((c) => c.row.displayName),
            fresh.map((c) => c.hash!),
            fresh.map((c) => String(c.row.quotaBytes)),
          ],
        );
        staged += fresh.length;
      }
      const outcomes: Outcome[] = batch.map((p) => {
        if (!('row' in p)) return p;
        const { address } = p.row;
        const kind = taken.get(address);
        if (kind === 'a mailbox') return { line: p.line, address, outcome: 'skipped', reason: EXISTS };
        if (kind) return { line: p.line, address, outcome: 'failed', reason: `address: already used by ${kind}` };
        counts.quotaBytes += p.row.quotaBytes;
        return { line: p.line, address, outcome: 'created', reason: '' };
      });
      await m.query(
        `INSERT INTO import_job_row (job_id, line, address, outcome, reason)
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[])`,
        [jobId, outcomes.map((o) => o.line), outcomes.map((o) => o.address), outcomes.map((o) => o.outcome), outcomes.map((o) => o.reason)],
      );
      const before = counts.processed;
      for (const o of outcomes) counts[o.outcome]++;
      counts.processed += outcomes.length;
      batch.length = 0;
      await report();
      if (Math.floor(counts.processed / LOG_EVERY_ROWS) > Math.floor(before / LOG_EVERY_ROWS)) {
        this.logger.log(`import ${jobId} into ${domain.name}: ${counts.processed} rows read, ${counts.created} to create, ${counts.skipped} skipped, ${counts.failed} failed`);
      }
    };

    /** Moves the staged rows into mailbox, batchSize rows per INSERT; an address taken meanwhile turns its row into 'skipped'. */
    const insertStaged = async () => {
      for (let from = 0; from < staged; from += batchSize) {
        if (signal.aborted) throw new ImportAborted();
        const inserted: { id: string; address: string }[] = await m.query(
          `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, password_hash, quota_bytes)
           SELECT $1, $2, local_part, address, display_name, password_hash, quota_bytes
             FROM pg_temp.mailbox_import_staging WHERE n > $3 AND n <= $4 ORDER BY n
           ON CONFLICT DO NOTHING RETURNING id, address`,
          [domain.tenantId, domain.id, from, from + batchSize],
        );
        await requestWelcomeMail(m, inserted.map((r) => r.id));
        const chunk = Math.min(batchSize, staged - from);
        if (inserted.length === chunk) continue;
        // TypeORM answers UPDATE ... RETURNING with [rows, count].
        const [lost]: [{ line: number; quota_bytes: string }[], number] = await m.query(
          `UPDATE import_job_row r SET outcome = 'skipped', reason = $5
             FROM pg_temp.mailbox_import_staging s
            WHERE r.job_id = $1 AND r.line = s.line AND s.n > $2 AND s.n <= $3 AND s.address <> ALL($4::text[])
            RETURNING s.line, s.quota_bytes`,
          [jobId, from, from + batchSize, inserted.map((r) => r.address), EXISTS],
        );
        counts.created -= lost.length;
        counts.skipped += lost.length;
        for (const l of lost) counts.quotaBytes -= Number(l.quota_bytes);
      }
    };

    let status: ImportJobStatus = 'done';
    let error: string | null = null;
    try {
      const parser = parse({ info: true, bom: true, skip_empty_lines: true, skip_records_with_empty_values: true, relax_column_count: true, relax_quotes: true });
      // pipeline() destroys the parser when the source fails, so the loop below sees the error.
      pipeline(Readable.from(request.source), parser, () => undefined);
      const batch: Pending[] = [];
      let first = true;
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (signal.aborted) throw new ImportAborted();
        if (first) {
          first = false;
          if (isHeader(record)) continue;
        }
        const line = info.lines;
        const row = parseRow(record, target);
        if (!row.ok) {
          batch.push({ line, address: row.address, outcome: 'failed', reason: row.reason });
        } else if (seen.has(row.address)) {
          batch.push({ line, address: row.address, outcome: 'failed', reason: `duplicate: the address is already on line ${seen.get(row.address)}` });
        } else {
          seen.set(row.address, line);
          batch.push({ line, row });
        }
        if (batch.length >= batchSize) await flush(batch);
      }
      await flush(batch);
      if (staged > 0) {
        // Limits are checked once for the whole import, before any of its mailboxes exist, under the tenant lock.
        try {
          await this.limits.assertCanAddMailboxes(m, domain.tenantId, domain.id, { count: counts.created, quotaBytes: counts.quotaBytes });
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          throw new ApiError(409, 'limit_reached', `the import's ${counts.created} new mailboxes (${counts.quotaBytes} bytes of quota) do not fit: ${e.message}; nothing was created`);
        }
        await insertStaged();
      }
      await this.audit.record(m, actor, request.ip, {
        action: 'mailbox.import',
        objectType: 'import_job',
        objectId: jobId,
        tenantId: domain.tenantId,
        after: { domain: domain.name, processed: counts.processed, created: counts.created, skipped: counts.skipped, failed: counts.failed, quotaBytes: counts.quotaBytes },
      });
      clearInterval(heartbeat);
      await reporting;
      // Written inside the transaction: the job reads 'done' exactly when its mailboxes exist.
      await m.query(
        `UPDATE import_job SET status = 'done', processed = $2, created = $3, skipped = $4, failed = $5, error = NULL, finished_at = clock_timestamp(), heartbeat_at = clock_timestamp() WHERE id = $1`,
        [jobId, counts.processed, counts.created, counts.skipped, counts.failed],
      );
      await runner.commitTransaction();
      this.logger.log(
        `import ${jobId} into ${domain.name} done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${counts.processed} rows, ${counts.created} created, ${counts.skipped} skipped, ${counts.failed} failed`,
      );
    } catch (e) {
      clearInterval(heartbeat);
      await reporting;
      status = e instanceof ImportAborted ? 'interrupted' : 'failed';
      error = failureMessage(e);
      if (status === 'failed' && !(e instanceof ApiError) && !isCsvError(e)) this.logger.error(`import ${jobId} failed: ${e instanceof Error ? e.stack : String(e)}`);
      else this.logger.warn(`import ${jobId} ${status}: ${error}`);
      await this.dataSource
        .query(`UPDATE import_job SET status = $2, error = $3, finished_at = now(), processed = $4, created = 0, skipped = 0, failed = 0 WHERE id = $1`, [
          jobId,
          status,
          error,
          counts.processed,
        ])
        .catch((err: Error) => this.logger.error(`import ${jobId}: final status not written: ${err.message}`));
      // Only now: rolling back frees the job's lock, and a lock-less 'running' job would read as interrupted.
      await runner.rollbackTransaction().catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
      await runner.release();
    }
    return status;
  }
}

function isCsvError(e: unknown): e is Error & { code: string } {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && code.startsWith('CSV_');
}

function failureMessage(e: unknown): string {
  if (e instanceof ImportAborted) return 'the API stopped during the import; nothing of it was saved; run it again';
  if (e instanceof ApiError) return e.message;
  if (isCsvError(e)) return `the file cannot be read as CSV: ${e.message}; nothing was imported`;
  return 'an internal error stopped the import; nothing of it was saved';
}

/** The request body in 64 KiB pieces, so the parser's back-pressure keeps only a few rows in flight. */
export function* chunks(text: string, size = 64 * 1024): Generator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function jobView(j: ImportJobEntity) {
  return {
    id: j.id,
    tenantId: j.tenantId,
    domainId: j.domainId,
    kind: j.kind,
    status: j.status,
    processed: j.processed,
    created: j.created,
    skipped: j.skipped,
    failed: j.failed,
    error: j.error,
    startedBy: j.startedBy,
    createdAt: j.createdAt.toISOString(),
    finishedAt: j.finishedAt ? j.finishedAt.toISOString() : null,
    heartbeatAt: j.heartbeatAt.toISOString(),
  };
}
