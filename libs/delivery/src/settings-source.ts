/**
 * The operators' mail settings as every node sees them: read from PostgreSQL (system_setting `smtp`,
 * merged over the product's defaults) and re-read whenever the API announces a change on Redis,
 * so a change applies without restart. Unset fields keep their defaults.
 */
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { DEFAULT_SMTP_SETTINGS, SmtpSettings, smtpSettings } from '@dizi/contracts/mail-settings.contract';

/** Published (with the setting's key as message) after the API commits a settings change. */
export const SETTINGS_CHANGED_CHANNEL = 'settings:changed';

export class SettingsSource {
  private current: SmtpSettings = DEFAULT_SMTP_SETTINGS;
  private subscriber?: Redis;
  private readonly listeners = new Set<(s: SmtpSettings) => void>();

  constructor(
    private readonly pool: Pool,
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {}

  get smtp(): SmtpSettings {
    return this.current;
  }

  /** Loads once, then follows changes announced on `redis` (a dedicated subscriber connection is made from it). */
  async start(redis?: Redis, channelPrefix = ''): Promise<void> {
    await this.reload();
    if (!redis) return;
    this.subscriber = redis.duplicate();
    this.subscriber.on('error', this.onError);
    this.subscriber.on('message', () => void this.reload().catch(this.onError));
    await this.subscriber.subscribe(`${channelPrefix}${SETTINGS_CHANGED_CHANNEL}`);
  }

  async reload(): Promise<void> {
    const { rows } = await this.pool.query(`SELECT value FROM system_setting WHERE key = 'smtp'`);
    const parsed = smtpSettings.safeParse(rows[0]?.value ?? {});
    // A stored value that no longer validates keeps the last good settings rather than stopping mail.
    if (!parsed.success) return this.onError(new Error(`stored smtp settings are invalid: ${parsed.error.message}`));
    this.current = parsed.data;
    for (const l of this.listeners) l(this.current);
  }

  onChange(listener: (s: SmtpSettings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.subscriber?.disconnect();
  }
}
