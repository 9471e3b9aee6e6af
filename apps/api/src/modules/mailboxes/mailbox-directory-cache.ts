import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import type { ApiConfig } from '@dizi/config/api.config';
import { API_CONFIG } from '../../common/tokens';
import { MailboxDirectoryIndex, type DirectoryFilter, type DirectoryRow } from './mailbox-directory-index';

export interface DirectoryDomain {
  id: string;
  name: string;
}

export interface DirectoryResult<Row> {
  rows: Row[];
  total: number;
}

/** A page fetch that finds the domain's counter moved rebuilds the index and tries again, this many times at most. */
const ATTEMPTS = 3;
const OVERSIZE_RECHECK_MS = 10 * 60_000;

/**
 * Per-domain search indexes of the mailbox list, kept in this API process and checked against the database on
 * every request: the page's rows and the domain's directory counter (`mailbox_directory_version`, moved by
 * triggers on every searchable change) come back in one query, and a page computed from an outdated index is
 * recomputed from a fresh one. So answers are always current, whichever API node made the change.
 * Bounded by API_MAILBOX_INDEX_MAX_ENTRIES mailboxes in all (least recently used domains are dropped); a domain
 * larger than that is searched in SQL instead (the caller's fallback when this returns null).
 */
@Injectable()
export class MailboxDirectoryCache {
  private readonly logger = new Logger(MailboxDirectoryCache.name);
  /** Map order is recency order: a hit moves the domain to the end, eviction takes from the front. */
  private readonly indexes = new Map<string, MailboxDirectoryIndex>();
  private readonly loading = new Map<string, Promise<MailboxDirectoryIndex | null>>();
  /** Domains too large to index, until when they are searched in SQL without asking again. */
  private readonly oversize = new Map<string, number>();
  private entries = 0;
  private readonly maxEntries: number;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.maxEntries = config.API_MAILBOX_INDEX_MAX_ENTRIES;
  }

  /**
   * One page of the domain's mailboxes matching `filter`, with the exact total. The page's rows are read fresh
   * (`columns` of `mailbox m`) in the same query as the domain's counter. Null when the domain is too large to index.
   */
  async search<Row extends { id: string }>(
    domain: DirectoryDomain,
    filter: DirectoryFilter,
    offset: number,
    limit: number,
    columns: string,
  ): Promise<DirectoryResult<Row> | null> {
    const oversize = this.oversize.get(domain.id);
    if (oversize !== undefined && oversize > Date.now()) return null;
    let index = this.indexes.get(domain.id) ?? (await this.load(domain));
    for (let attempt = 1; ; attempt++) {
      if (!index) return null;
      this.touch(domain.id, index);
      const page = index.search(filter, offset, limit);
      const found: Array<Row & { directoryVersion: string | null }> = await this.dataSource.query(
        `SELECT v.version AS "directoryVersion", hit.*
           FROM (SELECT (SELECT version FROM mailbox_directory_version WHERE domain_id = $1) AS version) v
           LEFT JOIN LATERAL (SELECT ${columns} FROM mailbox m WHERE m.id = ANY ($2::uuid[])) hit ON true`,
        [domain.id, page.ids],
      );
      const version = Number(found[0]?.directoryVersion ?? 0);
      if (version === index.version || attempt === ATTEMPTS) {
        const byId = new Map(found.filter((r) => r.id !== null).map(({ directoryVersion: _, ...row }) => [row.id, row as unknown as Row]));
        return { rows: page.ids.flatMap((id) => byId.get(id) ?? []), total: page.total };
      }
      index = await this.load(domain, version);
    }
  }

  /** Builds the domain's index from one snapshot (counter and rows agree); concurrent callers share one load. */
  private load(domain: DirectoryDomain, atLeast = 0): Promise<MailboxDirectoryIndex | null> {
    const inFlight = this.loading.get(domain.id);
    if (inFlight) {
      // A load that started before the change we saw would bring an outdated index: chain a fresh one after it.
      return inFlight.then((index) => (!index || index.version >= atLeast ? index : this.load(domain, atLeast)));
    }
    const started = performance.now();
    const loading = this.dataSource
      .transaction('REPEATABLE READ', async (m) => {
        const [counter] = await m.query(
          `SELECT version, (SELECT count(*)::int FROM mailbox WHERE domain_id = $1) AS mailboxes FROM (SELECT 1) one
             LEFT JOIN mailbox_directory_version ON domain_id = $1`,
          [domain.id],
        );
        if (counter.mailboxes > this.maxEntries) {
          this.oversize.set(domain.id, Date.now() + OVERSIZE_RECHECK_MS);
          return null;
        }
        const rows: DirectoryRow[] = await m.query(
          `SELECT id, local_part AS "localPart", display_name AS "displayName", status, role
             FROM mailbox WHERE domain_id = $1 ORDER BY local_part`,
          [domain.id],
        );
        return new MailboxDirectoryIndex(domain.name, Number(counter?.version ?? 0), rows);
      })
      .then((index) => {
        if (!index) return null;
        this.store(domain.id, index);
        if (index.size >= 10_000) {
          this.logger.log(`mailbox search index for ${domain.name}: ${index.size} mailboxes in ${(performance.now() - started).toFixed(0)} ms`);
        }
        return index;
      })
      .finally(() => this.loading.delete(domain.id));
    this.loading.set(domain.id, loading);
    return loading;
  }

  private store(domainId: string, index: MailboxDirectoryIndex): void {
    const old = this.indexes.get(domainId);
    if (old) {
      this.indexes.delete(domainId);
      this.entries -= old.size;
    }
    this.indexes.set(domainId, index);
    this.entries += index.size;
    for (const [id, victim] of this.indexes) {
      if (this.entries <= this.maxEntries) break;
      this.indexes.delete(id);
      this.entries -= victim.size;
    }
  }

  private touch(domainId: string, index: MailboxDirectoryIndex): void {
    if (this.indexes.get(domainId) !== index) return;
    this.indexes.delete(domainId);
    this.indexes.set(domainId, index);
  }
}
