'use client';
/** Language, display density and time zone; density and time zone are kept by the API for the user. */
import { useState } from 'react';
import { Alert, Segmented, Select } from 'antd';
import { useTranslations } from 'next-intl';
import { savePreferences, usePreferences, type MailPreferences } from '../../../lib/mail/preferences';
import { deviceTimeZone } from '../../../lib/mail/time-zone';
import { LanguageSwitch } from '../../shell/language-switch';

function timeZones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC', 'Asia/Shanghai', 'Europe/London', 'America/New_York'];
  }
}

export function GeneralSettings() {
  const t = useTranslations('mailRead.general');
  const preferences = usePreferences();
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const save = (change: Partial<MailPreferences>) =>
    savePreferences(change)
      .then(() => setStatus({ ok: true, text: t('saved') }))
      .catch((e: Error) => setStatus({ ok: false, text: t('failed', { message: e.message }) }));
  const device = deviceTimeZone() ?? 'UTC';
  return (
    <section aria-labelledby="ws-general">
      <h1 id="ws-general">{t('title')}</h1>
      <div className="ws-field">
        <span className="ws-label" id="ws-language">{t('language')}</span>
        <LanguageSwitch />
      </div>
      <div className="ws-field">
        <span className="ws-label" id="ws-density">{t('density')}</span>
        <Segmented
          aria-labelledby="ws-density"
          value={preferences?.density ?? 'comfortable'}
          disabled={!preferences}
          onChange={(v) => void save({ density: v as MailPreferences['density'] })}
          options={[
            { value: 'comfortable', label: t('comfortable') },
            { value: 'compact', label: t('compact') },
          ]}
        />
      </div>
      <div className="ws-field">
        <label htmlFor="ws-tz">{t('timeZone')}</label>
        <Select
          id="ws-tz"
          showSearch
          style={{ maxWidth: 360 }}
          disabled={!preferences}
          value={preferences?.timeZone ?? ''}
          onChange={(v: string) => void save({ timeZone: v || null })}
          options={[{ value: '', label: t('followBrowser', { zone: device }) }, ...timeZones().map((z) => ({ value: z, label: z }))]}
        />
        <span className="ws-hint">{t('timeZoneHint')}</span>
      </div>
      {status && <Alert role="status" type={status.ok ? 'success' : 'error'} showIcon title={status.text} />}
    </section>
  );
}
