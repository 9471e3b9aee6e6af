/**
 * The operators' mail settings as every node sees them: read from PostgreSQL (system_setting `smtp`,
 * merged over the product's defaults) and re-read whenever the API announces a change on Redis,
 * so a change applies without restart. Unset fields keep their defaults.
 */
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { isSealed, type SecretBox } from '@dizi/auth/secret-box';
import { DEFAULT_SMTP_SETTINGS, SmtpSettings, smtpSettings } from '@dizi/contracts/mail-settings.contract';

/** Published (with the setting's key as message) after the API commits a settings change. */
export const SETTINGS_CHANGED_CHANNEL = 'settings:changed';

/**
 * The channel of one installation. ioredis applies its keyPrefix to keys but NOT to PUBLISH/SUBSCRIBE
 * channel names, so the installation's REDIS_PREFIX is put in by hand: installations sharing a Redis
 * then never hear each other's changes.
 */
export const settingsChangedChannel = (redisPrefix: string): string => `${redisPrefix}${SETTINGS_CHANGED_CHANNEL}`;

/** The associated data the relay password is sealed with (SecretBox), by the API and for the nodes. */
export const RELAY_PASSWORD_FIELD = 'smtp.relay.password';

export interface SettingsSourceOptions {
  /** Re-read this often even without an announcement, so a message lost while Redis was away delays a change at most this long. 0: never. */
  pollMs?: number;
  /** Opens the sealed relay password; without it a sealed password cannot be used (and is reported). */
  secretBox?: SecretBox;
}

export class SettingsSource {
  private current: SmtpSettings = DEFAULT_SMTP_SETTINGS;
  private subscriber?: Redis;
  private poll?: NodeJS.Timeout;
  private readonly listeners = new Set<(s: SmtpSettings) => void>();

  constructor(
    private readonly pool: Pool,
    private readonly onError: (e: unknown) => void = () => undefined,
    private readonly options: SettingsSourceOptions = {},
  ) {}

  get smtp(): SmtpSettings {
    return this.current;
  }

  /**
   * Loads once, then follows changes announced on `redis` (a dedicated subscriber connection is made from it).
   * The channel prefix defaults to the client's keyPrefix, which is the installation's REDIS_PREFIX.
   */
  async start(redis?: Redis, channelPrefix = redis?.options.keyPrefix ?? ''): Promise<void> {
    await this.reload();
    const pollMs = this.options.pollMs ?? 60_000;
    if (pollMs > 0) {
      this.poll = setInterval(() => void this.reload().catch(this.onError), pollMs);
      this.poll.unref();
    }
    if (!redis) return;
    this.subscriber = redis.duplicate();
    this.subscriber.on('error', this.onError);
    this.subscriber.on('message', () => void this.reload().catch(this.onError));
    await this.subscriber.subscribe(settingsChangedChannel(channelPrefix));
  }

  async reload(): Promise<void> {
    const { rows } = await this.pool.query(`SELECT value FROM system_setting WHERE key = 'smtp'`);
    const parsed = smtpSettings.safeParse(rows[0]?.value ?? {});
    // A stored value that no longer validates keeps the last good settings rather than stopping mail.
    if (!parsed.success) return this.onError(new Error(`stored smtp settings are invalid: ${parsed.error.message}`));
    this.current = this.withOpenSecrets(parsed.data);
    for (const l of this.listeners) l(this.current);
  }

  /** The relay password as the nodes use it: opened when sealed; a clear one (stored before sealing existed) as it is. */
  private withOpenSecrets(s: SmtpSettings): SmtpSettings {
    const password = s.relay.password;
    if (!isSealed(password)) return s;
    try {
      if (!this.options.secretBox) throw new Error(`${RELAY_PASSWORD_FIELD} is sealed but this node has no settings encryption key`);
      return { ...s, relay: { ...s.relay, password: this.options.secretBox.open(password, RELAY_PASSWORD_FIELD) } };
    } catch (e) {
      // Relay logins fail until the key is right; everything else keeps working. The error never carries the value.
      this.onError(e);
      return { ...s, relay: { ...s.relay, password: '' } };
    }
  }

  onChange(listener: (s: SmtpSettings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.subscriber?.disconnect();
  }
}
