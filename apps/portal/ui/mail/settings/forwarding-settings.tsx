'use client';
/**
 * Forwarding, with or without a copy kept: the mailbox's delivery settings (`/api/mailboxes/{mailbox}/delivery`),
 * which the API already lets the mailbox's owner change, through the portal's relay with the user's own token. The
 * auto-reply lives in the same settings and is sent back unchanged.
 */
import { useEffect, useState } from 'react';
import { Alert, Button, Checkbox, Input } from 'antd';
import { useTranslations } from 'next-intl';

interface Delivery {
  forwardTo: string[];
  keepCopy: boolean;
  autoReply: { enabled: boolean; subject: string; body: string; startsAt: string | null; endsAt: string | null };
}

function refusal(answer: { message?: unknown }, status: number): string {
  if (Array.isArray(answer.message)) return answer.message.join('; ');
  return typeof answer.message === 'string' ? answer.message : `HTTP ${status}`;
}

export function ForwardingSettings({ mailbox }: { mailbox: string }) {
  const t = useTranslations('mailRead.forwarding');
  const url = `/bff/api/mailboxes/${encodeURIComponent(mailbox)}/delivery`;
  const [current, setCurrent] = useState<Delivery | null>(null);
  const [addresses, setAddresses] = useState('');
  const [keepCopy, setKeepCopy] = useState(true);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    fetch(url, { credentials: 'same-origin' })
      .then(async (res) => {
        if (!res.ok) throw new Error(String(res.status));
        const d = (await res.json()) as Delivery;
        setCurrent(d);
        setAddresses(d.forwardTo.join('\n'));
        setKeepCopy(d.keepCopy);
      })
      .catch(() => setStatus({ ok: false, text: t('loadFailed') }));
  }, [url, t]);

  const save = async () => {
    if (!current) return;
    const forwardTo = addresses.split(/[\s,;]+/).map((a) => a.trim()).filter(Boolean);
    setBusy(true);
    try {
      // The whole settings are replaced: read again first, so an auto-reply changed meanwhile is kept.
      const fresh = (await (await fetch(url, { credentials: 'same-origin' })).json()) as Delivery;
      const res = await fetch(url, {
        method: 'PUT',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ forwardTo, keepCopy: forwardTo.length ? keepCopy : true, autoReply: fresh.autoReply }),
      });
      const answer = (await res.json().catch(() => ({}))) as Delivery & { message?: unknown };
      if (!res.ok) {
        setStatus({ ok: false, text: t('refused', { message: refusal(answer, res.status) }) });
        return;
      }
      setCurrent(answer);
      setAddresses(answer.forwardTo.join('\n'));
      setKeepCopy(answer.keepCopy);
      setStatus({ ok: true, text: t('saved') });
    } catch {
      setStatus({ ok: false, text: t('loadFailed') });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="ws-forwarding">
      <h1 id="ws-forwarding">{t('title')}</h1>
      <p className="ws-hint">{t('intro')}</p>
      <div className="ws-field">
        <label htmlFor="ws-fwd-to">{t('addresses')}</label>
        <Input.TextArea id="ws-fwd-to" rows={3} value={addresses} placeholder="name@example.com" onChange={(e) => setAddresses(e.target.value)} />
        <span className="ws-hint">{t('addressesHint')}</span>
      </div>
      <div className="ws-field">
        <Checkbox checked={keepCopy} onChange={(e) => setKeepCopy(e.target.checked)}>
          {t('keepCopy')}
        </Checkbox>
      </div>
      <Button type="primary" onClick={() => void save()} loading={busy} disabled={!current}>
        {t('save')}
      </Button>
      {status && <Alert style={{ marginTop: 16 }} role="status" type={status.ok ? 'success' : 'error'} showIcon title={status.text} />}
    </section>
  );
}
