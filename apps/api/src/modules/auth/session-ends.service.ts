/** Tells every mail node to close the IMAP, POP3 and SMTP sessions of mailboxes whose access just ended. */
import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { announceSessionEnds } from '@dizi/auth/session-ends';
import type { ApiConfig } from '@dizi/config/api.config';
import { API_CONFIG, REDIS } from '../../common/tokens';

@Injectable()
export class SessionEndsService {
  private readonly logger = new Logger('session-ends');

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** Call after the change is committed. A Redis failure is logged, not thrown: the change stands, and sign-in already refuses. */
  async end(mailboxIds: string[]): Promise<void> {
    if (!mailboxIds.length) return;
    try {
      await announceSessionEnds(this.redis, this.config.REDIS_PREFIX, mailboxIds);
    } catch (e) {
      this.logger.warn(`open sessions of ${mailboxIds.length} mailbox(es) were not told to end: ${(e as Error).message}`);
    }
  }
}
