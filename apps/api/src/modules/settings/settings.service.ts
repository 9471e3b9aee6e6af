/**
 * Installation-wide settings kept in system_setting: `smtp` holds only the fields an operator
 * changed (the defaults stay in code, so a new release's default reaches every field nobody set),
 * `templates` the system mails. After a commit the change is announced on Redis so every mail node
 * re-reads it (libs/delivery/src/settings-source.ts).
 */
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { DataSource, EntityManager } from 'typeorm';
import { isSealed, SecretBox } from '@dizi/auth/secret-box';
import type { ApiConfig } from '@dizi/config/api.config';
import { jmapSettings, type JmapSettings, type JmapSettingsPatch } from '@dizi/contracts/jmap-settings.contract';
import { DEFAULT_SMTP_SETTINGS, SmtpSettings, smtpSettings } from '@dizi/contracts/mail-settings.contract';
import {
  DEFAULT_MAIL_TEMPLATES, MailTemplates, mailTemplatesFromStored, noticeValues, renderMailTemplate, SmtpSettingsPatch, SmtpSettingsValues,
  TEMPLATE_LANGUAGES, TEMPLATE_PLACEHOLDERS, TEMPLATE_SAMPLE_EXTRAS, TEMPLATE_SAMPLE_MAILBOX, TemplatePreviewRequest,
} from '@dizi/contracts/settings.contract';
import { RELAY_PASSWORD_FIELD, settingsChangedChannel } from '@dizi/delivery/adapters/postgres/settings-source';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, forbidden } from '../../common/api-error';
import { API_CONFIG, REDIS, SECRET_BOX } from '../../common/tokens';
import { AuditService } from '../audit/audit.service';

/** What is stored under `smtp`: the changed fields only, relay fields one by one. */
type StoredSmtp = Record<string, unknown> & { relay?: Record<string, unknown> };

@Injectable()
export class SettingsService implements OnModuleInit {
  private readonly logger = new Logger('settings');
  /** Seals the relay password at rest; the mail nodes open it with the same key. */
  private readonly secretBox: SecretBox;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(SECRET_BOX) secretBox: SecretBox,
  ) {
    this.secretBox = secretBox;
  }

  /** A relay password stored in clear by an earlier release is sealed at start. */
  async onModuleInit(): Promise<void> {
    const sealedNow = await this.dataSource.transaction(async (m) => {
      const [row] = await m.query(`SELECT value FROM system_setting WHERE key = 'smtp' FOR UPDATE`);
      const stored = asStored(row?.value);
      const password = stored.relay?.password;
      if (typeof password !== 'string' || password === '' || isSealed(password)) return false;
      const after = { ...stored, relay: { ...stored.relay, password: this.secretBox.seal(password, RELAY_PASSWORD_FIELD) } };
      await m.query(`UPDATE system_setting SET value = $1::jsonb WHERE key = 'smtp'`, [JSON.stringify(after)]);
      return true;
    });
    if (sealedNow) {
      this.logger.log('sealed the relay password stored in clear');
      await this.announce('smtp');
    }
  }

  async smtp(actor: Actor) {
    operatorsOnly(actor);
    const row = await this.read(this.dataSource.manager, 'smtp');
    return smtpView(usableStored(asStored(row?.value)), row?.updatedAt ?? null);
  }

  async updateSmtp(actor: Actor, ip: string, patch: SmtpSettingsPatch) {
    operatorsOnly(actor);
    const view = await this.dataSource.transaction(async (m) => {
      const row = await this.lock(m, 'smtp');
      const before = asStored(row.value);
      const merged = applyPatch(before, patch);
      const parsed = smtpSettings.safeParse(merged);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue.path.map(String).join('.');
        throw badRequest(`${field}: ${issue.message}`, field);
      }
      const settings = parsed.data;
      if (settings.relay.mode !== 'never' && !settings.relay.host.trim()) {
        throw badRequest(`relay.host: name the relay host before setting relay.mode to ${settings.relay.mode}`, 'relay.host');
      }
      if (settings.antispamRejectScore <= settings.antispamJunkScore) {
        throw badRequest(
          `antispamRejectScore: ${settings.antispamRejectScore} must be above antispamJunkScore (${settings.antispamJunkScore}), or nothing would reach Junk`,
          'antispamRejectScore',
        );
      }
      const after = normalised(merged, settings);
      // A new password is sealed before it is stored; an unchanged one is already sealed.
      const newPassword = patch.relay?.password;
      if (after.relay && typeof newPassword === 'string' && newPassword !== '') {
        after.relay.password = this.secretBox.seal(newPassword, RELAY_PASSWORD_FIELD);
      }
      // TypeORM answers UPDATE ... RETURNING with [rows, count]: the row is the first of the rows.
      const [[saved]]: [{ updatedAt: Date }[], number] = await m.query(
        `UPDATE system_setting SET value = $1::jsonb, updated_at = now() WHERE key = 'smtp' RETURNING updated_at AS "updatedAt"`,
        [JSON.stringify(after)],
      );
      await this.audit.record(m, actor, ip, {
        action: 'settings.smtp.update', objectType: 'system_setting', objectId: 'smtp', before: withoutSecrets(before), after: withoutSecrets(after),
      });
      return smtpView(after, saved.updatedAt);
    });
    await this.announce('smtp');
    return view;
  }

  async jmap(actor: Actor) {
    operatorsOnly(actor);
    const row = await this.read(this.dataSource.manager, 'jmap');
    return jmapView(jmapDefaults(this.config), storedJmap(row?.value), row?.updatedAt ?? null);
  }

  async updateJmap(actor: Actor, ip: string, patch: JmapSettingsPatch) {
    operatorsOnly(actor);
    const defaults = jmapDefaults(this.config);
    const view = await this.dataSource.transaction(async (m) => {
      const row = await this.lock(m, 'jmap');
      const before = storedJmap(row.value);
      const after: Partial<JmapSettings> = { ...before };
      for (const [key, value] of Object.entries(patch) as Array<[keyof JmapSettings, number | null | undefined]>) {
        if (value === null) delete after[key];
        else if (value !== undefined) after[key] = value;
      }
      const [[saved]]: [{ updatedAt: Date }[], number] = await m.query(
        `UPDATE system_setting SET value = $1::jsonb, updated_at = now() WHERE key = 'jmap' RETURNING updated_at AS "updatedAt"`,
        [JSON.stringify(after)],
      );
      await this.audit.record(m, actor, ip, { action: 'settings.jmap.update', objectType: 'system_setting', objectId: 'jmap', before, after });
      return jmapView(defaults, after, saved.updatedAt);
    });
    await this.announce('jmap');
    return view;
  }

  async templates(actor: Actor) {
    operatorsOnly(actor);
    const row = await this.read(this.dataSource.manager, 'templates');
    return templatesView(mailTemplatesFromStored(row?.value), row?.updatedAt ?? null);
  }

  async updateTemplates(actor: Actor, ip: string, body: MailTemplates) {
    operatorsOnly(actor);
    const view = await this.dataSource.transaction(async (m) => {
      const row = await this.lock(m, 'templates');
      // TypeORM answers UPDATE ... RETURNING with [rows, count]: the row is the first of the rows.
      const [[saved]]: [{ updatedAt: Date }[], number] = await m.query(
        `UPDATE system_setting SET value = $1::jsonb, updated_at = now() WHERE key = 'templates' RETURNING updated_at AS "updatedAt"`,
        [JSON.stringify(body)],
      );
      await this.audit.record(m, actor, ip, {
        action: 'settings.templates.update', objectType: 'system_setting', objectId: 'templates', before: mailTemplatesFromStored(row.value), after: body,
      });
      return templatesView(body, saved.updatedAt);
    });
    await this.announce('templates');
    return view;
  }

  /**
   * A template filled with a sample mailbox's values, as delivery fills it: the saved one, or a draft not saved yet
   * (validated against the same placeholders as PUT). Both languages unless one is named.
   */
  async previewTemplate(actor: Actor, req: TemplatePreviewRequest) {
    operatorsOnly(actor);
    const row = await this.read(this.dataSource.manager, 'templates');
    const saved = mailTemplatesFromStored(row?.value)[req.kind];
    const languages = req.language ? [req.language] : [...TEMPLATE_LANGUAGES];
    return {
      kind: req.kind,
      items: languages.map((language) => {
        const text = req.draft ?? saved[language];
        const values = { ...noticeValues(TEMPLATE_SAMPLE_MAILBOX[language]), ...TEMPLATE_SAMPLE_EXTRAS[language] };
        return { language, subject: renderMailTemplate(text.subject, values), body: renderMailTemplate(text.body, values), values };
      }),
    };
  }

  private async read(m: EntityManager, key: string): Promise<{ value: unknown; updatedAt: Date } | undefined> {
    const [row] = await m.query(`SELECT value, updated_at AS "updatedAt" FROM system_setting WHERE key = $1`, [key]);
    return row;
  }

  /** The row, locked for this transaction (created empty first), so two concurrent changes never lose one another. */
  private async lock(m: EntityManager, key: string): Promise<{ value: unknown }> {
    await m.query(`INSERT INTO system_setting (key, value) VALUES ($1, '{}'::jsonb) ON CONFLICT (key) DO NOTHING`, [key]);
    const [row] = await m.query(`SELECT value FROM system_setting WHERE key = $1 FOR UPDATE`, [key]);
    return row;
  }

  /**
   * Tells the mail nodes after the commit. A lost announcement only delays the change until the
   * nodes' periodic re-read, so a Redis failure here must not fail a change that is already stored.
   */
  private async announce(key: string): Promise<void> {
    try {
      await this.redis.publish(settingsChangedChannel(this.config.REDIS_PREFIX), key);
    } catch (e) {
      this.logger.warn(`could not announce the ${key} settings change on Redis: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function operatorsOnly(actor: Actor): void {
  if (actor.role !== 'operator') throw forbidden('only operators manage the installation settings');
}

function asStored(value: unknown): StoredSmtp {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const stored = { ...(value as StoredSmtp) };
  if (stored.relay && (typeof stored.relay !== 'object' || Array.isArray(stored.relay))) delete stored.relay;
  return stored;
}

/** Stored fields that no longer validate (an older release's value) are shown as their defaults, like the nodes treat them. */
function usableStored(stored: StoredSmtp): StoredSmtp {
  const usable: StoredSmtp = { ...stored, ...(stored.relay ? { relay: { ...stored.relay } } : {}) };
  for (let i = 0; i < 50; i++) {
    const parsed = smtpSettings.safeParse(usable);
    if (parsed.success) return usable;
    const [top, sub] = parsed.error.issues[0].path.map(String);
    if (top === 'relay' && sub && usable.relay) delete usable.relay[sub];
    else delete usable[top];
  }
  return {};
}

function applyPatch(stored: StoredSmtp, patch: SmtpSettingsPatch): StoredSmtp {
  const next: StoredSmtp = { ...stored };
  const relay: Record<string, unknown> = { ...(stored.relay ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key !== 'relay') {
      if (value === null) delete next[key];
      else next[key] = value;
      continue;
    }
    if (value === null) {
      for (const k of Object.keys(relay)) delete relay[k];
      continue;
    }
    for (const [rk, rv] of Object.entries(value as Record<string, unknown>)) {
      if (rv === undefined) continue;
      // An empty password is the default: clearing it removes the stored secret.
      if (rv === null || (rk === 'password' && rv === '')) delete relay[rk];
      else relay[rk] = rv;
    }
  }
  if (Object.keys(relay).length) next.relay = relay;
  else delete next.relay;
  return next;
}

/** The stored fields with their validated form (trimmed, lower-cased lists), nothing else. */
function normalised(stored: StoredSmtp, settings: SmtpSettings): StoredSmtp {
  const out: StoredSmtp = {};
  for (const key of Object.keys(stored)) {
    if (key === 'relay') {
      out.relay = Object.fromEntries(Object.keys(stored.relay ?? {}).map((k) => [k, settings.relay[k as keyof SmtpSettings['relay']]]));
    } else {
      out[key] = settings[key as keyof SmtpSettings];
    }
  }
  return out;
}

function withoutSecrets(stored: StoredSmtp): StoredSmtp {
  if (!stored.relay || !('password' in stored.relay)) return stored;
  const { password: _secret, ...relay } = stored.relay;
  return { ...stored, relay: { ...relay, passwordSet: true } };
}

function shown(s: SmtpSettings): SmtpSettingsValues {
  const { password, ...relay } = s.relay;
  return { ...s, relay: { ...relay, passwordSet: password !== '' } };
}

function smtpView(stored: StoredSmtp, updatedAt: Date | null) {
  const overridden = Object.keys(stored).flatMap((k) => (k === 'relay' ? Object.keys(stored.relay ?? {}).map((r) => `relay.${r}`) : [k]));
  return {
    values: shown(smtpSettings.parse(stored)),
    defaults: shown(DEFAULT_SMTP_SETTINGS),
    overridden: overridden.sort(),
    updatedAt: updatedAt ? new Date(updatedAt).toISOString() : null,
  };
}

function templatesView(values: MailTemplates, updatedAt: Date | null) {
  return {
    values,
    defaults: DEFAULT_MAIL_TEMPLATES,
    placeholders: TEMPLATE_PLACEHOLDERS,
    updatedAt: updatedAt ? new Date(updatedAt).toISOString() : null,
  };
}

/** The API's JMAP_MAX_* variables: the defaults an operator's stored limits replace. */
export function jmapDefaults(config: ApiConfig): JmapSettings {
  return {
    maxSizeUpload: config.JMAP_MAX_SIZE_UPLOAD,
    maxConcurrentUpload: config.JMAP_MAX_CONCURRENT_UPLOAD,
    maxSizeRequest: config.JMAP_MAX_SIZE_REQUEST,
    maxConcurrentRequests: config.JMAP_MAX_CONCURRENT_REQUESTS,
    maxCallsInRequest: config.JMAP_MAX_CALLS_IN_REQUEST,
    maxObjectsInGet: config.JMAP_MAX_OBJECTS_IN_GET,
    maxObjectsInSet: config.JMAP_MAX_OBJECTS_IN_SET,
    maxDelayedSend: config.JMAP_MAX_DELAYED_SEND,
  };
}

/** The stored limits that still validate (an older release's value that does not is left to its default). */
export function storedJmap(value: unknown): Partial<JmapSettings> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Partial<JmapSettings> = {};
  for (const [key, field] of Object.entries(jmapSettings.shape)) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined && field.safeParse(v).success) out[key as keyof JmapSettings] = v as number;
  }
  return out;
}

function jmapView(defaults: JmapSettings, stored: Partial<JmapSettings>, updatedAt: Date | null) {
  return {
    values: { ...defaults, ...stored },
    defaults,
    overridden: Object.keys(stored).sort(),
    updatedAt: updatedAt ? new Date(updatedAt).toISOString() : null,
  };
}
