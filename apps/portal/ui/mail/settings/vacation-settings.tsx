'use client';
/** The auto-reply with its dates: JMAP VacationResponse (the mailbox's auto-reply, answered once per sender). */
import { useEffect, useState } from 'react';
import { Alert, Button, Input, Switch } from 'antd';
import { useTranslations } from 'next-intl';
import { jmap, jmapSession } from '../../../lib/mail/jmap-browser';
import { loadPreferences } from '../../../lib/mail/preferences';
import { dayStart, localDay, nextDayStart } from '../../../lib/mail/days';

interface Vacation {
  isEnabled: boolean;
  fromDate: string | null;
  toDate: string | null;
  subject: string | null;
  textBody: string | null;
}

export function VacationSettings() {
  const t = useTranslations('mailRead.vacation');
  const [accountId, setAccountId] = useState<string | null>(null);
  const [form, setForm] = useState({ enabled: false, from: '', to: '', subject: '', text: '' });
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  /** Nothing can be changed before the saved settings are shown (they would overwrite what was typed). */
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    (async () => {
      // Days are drawn in the user's chosen time zone.
      const [s] = await Promise.all([jmapSession(), loadPreferences()]);
      setAccountId(s.accountId);
      const r = await jmap([['VacationResponse/get', { accountId: s.accountId, ids: null }, 'v']]);
      const v = (r.v.list as Vacation[])[0];
      if (v) {
        // The end is stored as the moment replies stop: the day before it is the last day shown.
        const to = v.toDate ? localDay(new Date(Date.parse(v.toDate) - 1)) : '';
        setForm({ enabled: v.isEnabled, from: v.fromDate ? localDay(new Date(v.fromDate)) : '', to, subject: v.subject ?? '', text: v.textBody ?? '' });
      }
      setLoaded(true);
    })().catch(() => setStatus({ ok: false, text: t('loadFailed') }));
  }, [t]);

  const save = async () => {
    if (!accountId) return;
    if (form.enabled && !form.text.trim()) return setStatus({ ok: false, text: t('needText') });
    if (form.from && form.to && form.to < form.from) return setStatus({ ok: false, text: t('badDates') });
    setBusy(true);
    try {
      const update = {
        isEnabled: form.enabled,
        fromDate: form.from ? dayStart(form.from) : null,
        toDate: form.to ? nextDayStart(form.to) : null,
        subject: form.subject.trim() || null,
        textBody: form.text || null,
      };
      const r = await jmap([['VacationResponse/set', { accountId, update: { singleton: update } }, 's']]);
      const refused = (r.s.notUpdated as Record<string, { description?: string; type: string }> | null)?.singleton;
      setStatus(refused ? { ok: false, text: t('refused', { message: refused.description ?? refused.type }) } : { ok: true, text: t('saved') });
    } catch (e) {
      setStatus({ ok: false, text: t('refused', { message: (e as Error).message }) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="ws-vacation">
      <h1 id="ws-vacation">{t('title')}</h1>
      <p className="ws-hint">{t('intro')}</p>
      <div className="ws-field">
        <span className="ws-row">
          <Switch id="ws-vac-on" disabled={!loaded} checked={form.enabled} onChange={(v) => setForm({ ...form, enabled: v })} />
          <label htmlFor="ws-vac-on">{t('enabled')}</label>
        </span>
      </div>
      <div className="ws-row">
        <div className="ws-field">
          <label htmlFor="ws-vac-from">{t('from')}</label>
          <Input disabled={!loaded} id="ws-vac-from" type="date" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} />
        </div>
        <div className="ws-field">
          <label htmlFor="ws-vac-to">{t('to')}</label>
          <Input disabled={!loaded} id="ws-vac-to" type="date" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} />
        </div>
      </div>
      <span className="ws-hint">{t('datesHint')}</span>
      <div className="ws-field" style={{ marginTop: 16 }}>
        <label htmlFor="ws-vac-subject">{t('subject')}</label>
        <Input disabled={!loaded} id="ws-vac-subject" maxLength={200} value={form.subject} placeholder={t('subjectPlaceholder')} onChange={(e) => setForm({ ...form, subject: e.target.value })} />
      </div>
      <div className="ws-field">
        <label htmlFor="ws-vac-text">{t('text')}</label>
        <Input.TextArea disabled={!loaded} id="ws-vac-text" rows={6} maxLength={20000} value={form.text} onChange={(e) => setForm({ ...form, text: e.target.value })} />
      </div>
      <Button type="primary" onClick={() => void save()} loading={busy} disabled={!loaded}>
        {t('save')}
      </Button>
      {status && <Alert style={{ marginTop: 16 }} role="status" type={status.ok ? 'success' : 'error'} showIcon title={status.text} />}
    </section>
  );
}
