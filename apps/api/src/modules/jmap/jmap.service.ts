/** The API's JMAP server: who is asking (Bearer token of a mailbox user, or Basic with the mailbox password), and the protocol library over the message store. */
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MailboxLogin } from '@dizi/auth/mailbox-login';
import type { ApiConfig } from '@dizi/config/api.config';
import { ALL_METHODS } from '@dizi/jmap/all-methods';
import { JmapApi } from '@dizi/jmap/api-request';
import type { JmapLimits } from '@dizi/jmap/limits';
import type { JmapAccount } from '@dizi/jmap/method';
import { sessionState } from '@dizi/jmap/session';
import { API_CONFIG } from '../../common/tokens';
import { createRootLogger } from '../../common/pino-logger';
import { AuthenticationService } from '../auth/authentication.service';
import { LoginThrottleService } from '../auth/login-throttle.service';
import { createApiMailStore, type ApiMailStore } from './mail-store';
import { RedisUploads } from './upload-store';
import { SubmissionSender } from './jmap-sender';
import { DeliveryVacation } from './jmap-vacation';
import { PgIdentityProfiles } from './jmap-identity-profiles';
import { MailboxDeliveryService } from '../mailbox-delivery/mailbox-delivery.service';
import { jmapDefaults, storedJmap } from '../settings/settings.service';

/** How long the stored JMAP limits are used before they are read again. */
const LIMITS_TTL_MS = 1000;

export type Authenticated = { ok: true; account: JmapAccount } | { ok: false; status: 401 | 403 | 429; detail: string };

@Injectable()
export class JmapService implements OnApplicationShutdown {
  readonly logger;
  /** The JMAP_MAX_* variables with the operator's stored limits over them (GET/PATCH /api/settings/jmap). */
  private current: JmapLimits;
  private readonly defaults: JmapLimits;
  private limitsReadAt = 0;
  private limitsReading?: Promise<void>;
  private readonly logins: MailboxLogin;
  /** Made at the first JMAP request: an API that serves no mail opens no store (no pool, no blob threads). */
  private served?: Promise<{ mail: ApiMailStore; api: JmapApi; uploads: RedisUploads }>;
  /** Uploads running per account (maxConcurrentUpload). */
  readonly uploading = new Map<string, number>();

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly authentication: AuthenticationService,
    throttle: LoginThrottleService,
    private readonly dataSource: DataSource,
    private readonly delivery: MailboxDeliveryService,
  ) {
    this.logger = createRootLogger(config.LOG_LEVEL).child({ module: 'jmap' });
    this.defaults = jmapDefaults(config);
    this.current = this.defaults;
    this.logins = new MailboxLogin(dataSource, throttle, {
      failureDelayMs: config.LOGIN_FAILURE_DELAY_MS,
      cache: { ttlMs: config.AUTH_CACHE_TTL_SECONDS * 1000, maxEntries: config.AUTH_CACHE_SIZE },
    });
  }

  get limits(): JmapLimits {
    return this.current;
  }

  /**
   * Reads the stored limits again when the last read is older than a second (one small query per second at most;
   * concurrent requests share it). A failed read keeps the limits in force.
   */
  private async refreshLimits(): Promise<void> {
    if (Date.now() - this.limitsReadAt < LIMITS_TTL_MS) return;
    this.limitsReading ??= (async () => {
      try {
        const [row] = await this.dataSource.query(`SELECT value FROM system_setting WHERE key = 'jmap'`);
        this.current = { ...this.defaults, ...storedJmap(row?.value) };
      } catch (err) {
        this.logger.warn({ err }, 'could not read the JMAP limits; the ones in force stay');
      } finally {
        this.limitsReadAt = Date.now();
        this.limitsReading = undefined;
      }
    })();
    await this.limitsReading;
  }

  /** The mail store, opened at the first JMAP request (a failed opening is tried again at the next). */
  async mail(): Promise<ApiMailStore> {
    return (await this.serve()).mail;
  }

  async api(): Promise<JmapApi> {
    return (await this.serve()).api;
  }

  async uploads(): Promise<RedisUploads> {
    return (await this.serve()).uploads;
  }

  private serve(): Promise<{ mail: ApiMailStore; api: JmapApi; uploads: RedisUploads }> {
    this.served ??= this.open().catch((e: unknown) => {
      this.served = undefined;
      throw e;
    });
    return this.served;
  }

  private async open(): Promise<{ mail: ApiMailStore; api: JmapApi; uploads: RedisUploads }> {
    const mail = await createApiMailStore(this.config, this.logger);
    const uploads = new RedisUploads(mail.redis, mail.runtime.blobs);
    const profiles = new PgIdentityProfiles(this.dataSource);
    const api = new JmapApi({
      store: mail.store,
      limits: () => this.limits,
      methods: ALL_METHODS,
      uploads,
      identities: {
        list: (mailboxId) => mail.recipients.senderIdentities(mailboxId),
        profiles: (mailboxId) => profiles.profiles(mailboxId),
        saveProfile: (mailboxId, address, profile) => profiles.saveProfile(mailboxId, address, profile),
      },
      sender: new SubmissionSender(mail.submission, mail.pool),
      vacation: new DeliveryVacation(this.delivery, (mailboxId) => this.authentication.mailboxActor(mailboxId)),
      sessionState: (account) => sessionState(account, this.limits),
      onMethodFailure: (method, err) => this.logger.error({ method, err }, 'JMAP method failed'),
    });
    return { mail, api, uploads };
  }

  /** Only mailbox users have a mail account; operators, admins without a mailbox and API keys do not. */
  async authenticate(headers: Record<string, string | string[] | undefined>, ip: string): Promise<Authenticated> {
    await this.refreshLimits();
    const auth = headers.authorization;
    if (typeof auth === 'string' && /^Basic /i.test(auth)) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { ok: false, status: 401, detail: 'Basic credentials must be address:password' };
      const outcome = await this.logins.login(decoded.slice(0, colon), decoded.slice(colon + 1), ip, 'api');
      if (!outcome.ok) {
        return outcome.reason === 'throttled'
          ? { ok: false, status: 429, detail: `too many failed sign-ins; try again in ${Math.ceil(outcome.waitMs / 1000)} s` }
          : { ok: false, status: 401, detail: 'wrong address or password, or the account is suspended' };
      }
      const actor = await this.authentication.mailboxActor(outcome.mailbox.mailboxId);
      if (!actor?.mailboxId) return { ok: false, status: 401, detail: 'the account is suspended' };
      return { ok: true, account: { accountId: actor.mailboxId, mailboxId: actor.mailboxId, name: actor.name } };
    }
    const actor = await this.authentication.authenticate(headers);
    if (!actor) return { ok: false, status: 401, detail: 'sign in with a bearer token or Basic address:password' };
    if (actor.kind !== 'mailbox' || !actor.mailboxId) return { ok: false, status: 403, detail: 'only mailbox users have a mail account' };
    return { ok: true, account: { accountId: actor.mailboxId, mailboxId: actor.mailboxId, name: actor.name } };
  }

  /** Links in the session resource: API_PUBLIC_URL, else the host the client asked. */
  baseUrl(host: string | undefined): string {
    if (this.config.API_PUBLIC_URL) return this.config.API_PUBLIC_URL.replace(/\/+$/, '');
    return `http://${host ?? `${this.config.API_HOST}:${this.config.API_PORT}`}`;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.served) await (await this.served.catch(() => undefined))?.mail.close();
  }
}
