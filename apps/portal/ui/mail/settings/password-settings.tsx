'use client';
/** Password change: the current one and the new one (twice); every other session, IMAP and POP3 included, is signed out. */
import { useState } from 'react';
import { Alert, Button, Input } from 'antd';
import { useTranslations } from 'next-intl';

export function PasswordSettings() {
  const t = useTranslations('mailRead.password');
  const [form, setForm] = useState({ current: '', next: '', again: '' });
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async () => {
    if (!form.current || !form.next) return setStatus({ ok: false, text: t('missing') });
    if (form.next !== form.again) return setStatus({ ok: false, text: t('mismatch') });
    setBusy(true);
    try {
      const res = await fetch('/auth/password', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ currentPassword: form.current, newPassword: form.next }),
      });
      const answer = (await res.json().catch(() => ({}))) as { message?: unknown; signedIn?: boolean };
      if (!res.ok) {
        const message = Array.isArray(answer.message) ? answer.message.join('; ') : String(answer.message ?? res.status);
        setStatus({ ok: false, text: res.status === 401 && /current password/.test(message) ? t('wrongCurrent') : t('refused', { message }) });
        return;
      }
      setForm({ current: '', next: '', again: '' });
      if (!answer.signedIn) window.location.assign('/sign-in?next=/mail');
      else setStatus({ ok: true, text: t('changed') });
    } catch {
      setStatus({ ok: false, text: t('unavailable') });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="ws-password">
      <h1 id="ws-password">{t('title')}</h1>
      <p className="ws-hint">{t('intro')}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="ws-field">
          <label htmlFor="ws-pw-current">{t('current')}</label>
          <Input.Password id="ws-pw-current" autoComplete="current-password" value={form.current} onChange={(e) => setForm({ ...form, current: e.target.value })} />
        </div>
        <div className="ws-field">
          <label htmlFor="ws-pw-new">{t('new')}</label>
          <Input.Password id="ws-pw-new" autoComplete="new-password" value={form.next} onChange={(e) => setForm({ ...form, next: e.target.value })} />
        </div>
        <div className="ws-field">
          <label htmlFor="ws-pw-again">{t('again')}</label>
          <Input.Password id="ws-pw-again" autoComplete="new-password" value={form.again} onChange={(e) => setForm({ ...form, again: e.target.value })} />
        </div>
        <Button type="primary" htmlType="submit" loading={busy}>
          {t('save')}
        </Button>
      </form>
      {status && <Alert style={{ marginTop: 16 }} role="status" type={status.ok ? 'success' : 'error'} showIcon title={status.text} />}
    </section>
  );
}
