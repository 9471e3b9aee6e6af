'use client';
/** The senders whose remote images are shown without asking ("always show images from this sender"), each revocable. */
import { useState } from 'react';
import { Alert, Button, Empty } from 'antd';
import { useTranslations } from 'next-intl';
import { savePreferences, usePreferences } from '../../../lib/mail/preferences';

export function ImageSenderSettings() {
  const t = useTranslations('mailRead.images');
  const preferences = usePreferences();
  const [problem, setProblem] = useState<string | null>(null);
  const senders = preferences?.imageSenders ?? [];
  return (
    <section aria-labelledby="ws-images">
      <h1 id="ws-images">{t('title')}</h1>
      <p className="ws-hint">{t('intro')}</p>
      {preferences && senders.length === 0 && <Empty description={t('none')} />}
      <ul className="ws-list" aria-label={t('title')}>
        {senders.map((s) => (
          <li key={s}>
            <span className="ws-grow">{s}</span>
            <Button
              size="small"
              aria-label={t('revokeOf', { sender: s })}
              onClick={() => void savePreferences({ imageSenders: senders.filter((x) => x !== s) }).catch((e: Error) => setProblem(e.message))}
            >
              {t('revoke')}
            </Button>
          </li>
        ))}
      </ul>
      {problem && <Alert type="error" showIcon title={problem} />}
    </section>
  );
}
