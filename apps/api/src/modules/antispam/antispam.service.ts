/**
 * The anti-spam report (issue 18), operators only: each inbound check's refusals are recognised in the session log by
 * the reply text the check gives (libs/smtp/src/inbound/checks), Junk filing by the spam note written with the
 * accepted transaction, quarantined messages from the quarantine table. A reply text is in the row whatever its
 * result: `refused` (at connect), `rejected` (DATA), `abandoned` or `accepted` (a recipient refused at RCPT). One scan of mail_log over the period (its
 * `at` index), in the database.
 */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AntispamReportQuery } from '@dizi/contracts/antispam.contract';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, forbidden } from '../../common/api-error';

const DAY = 86_400_000;
const MAX_DAYS = 366;

/** The reply texts of the checks (kept in step with libs/smtp/src/inbound/checks/*.check.ts). */
const PATTERNS = {
  dnsList: 'blocked using ',
  helo: 'HELO/EHLO ',
  reverseDns: 'reverse DNS',
  greylist: 'Greylisted, please try again',
  dmarc: 'rejected: DMARC policy of ',
  spamScore: 'Message rejected as spam',
  virus: 'rejected: virus found',
} as const;

@Injectable()
export class AntispamService {
  constructor(private readonly dataSource: DataSource) {}

  async report(actor: Actor, query: AntispamReportQuery) {
    if (actor.role !== 'operator') throw forbidden('only operators see the anti-spam report');
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 7 * DAY);
    if (from >= to) throw badRequest('from: must be before to');
    if (to.getTime() - from.getTime() > MAX_DAYS * DAY) throw badRequest(`from: the period is at most ${MAX_DAYS} days`);
    const keys = Object.keys(PATTERNS) as (keyof typeof PATTERNS)[];
    // strpos, not LIKE: the patterns are literal text.
    const counts = keys.map((k, i) => `count(*) FILTER (WHERE strpos(reason, $${i + 3}) > 0)::int AS "${k}"`);
    const [row] = await this.dataSource.query(
      `SELECT ${counts.join(', ')},
              count(*) FILTER (WHERE result = 'accepted')::int AS accepted,
              count(*) FILTER (WHERE result = 'accepted' AND reason ~ 'spam: score [^;]*, Junk')::int AS junked
         FROM mail_log WHERE kind = 'session' AND at >= $1 AND at < $2`,
      [from, to, ...keys.map((k) => PATTERNS[k])],
    );
    const zones: { zone: string; refused: number }[] = await this.dataSource.query(
      `SELECT substring(reason FROM 'blocked using ([^ ;,]+)') AS zone, count(*)::int AS refused
         FROM mail_log WHERE kind = 'session' AND at >= $1 AND at < $2 AND strpos(reason, 'blocked using ') > 0
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50`,
      [from, to],
    );
    const [held] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE reason = 'spam')::int AS spam, count(*) FILTER (WHERE reason = 'virus')::int AS virus
         FROM quarantine WHERE created_at >= $1 AND created_at < $2`,
      [from, to],
    );
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      refused: Object.fromEntries(keys.map((k) => [k, row[k] as number])) as Record<keyof typeof PATTERNS, number>,
      dnsListZones: zones,
      accepted: row.accepted as number,
      junked: row.junked as number,
      quarantined: { spam: held.spam as number, virus: held.virus as number },
    };
  }
}
