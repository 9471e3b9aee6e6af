'use client';
/** The one sign-in page of the portal: single sign-on, or a password for administrators and local operators. */
import { useState } from 'react';
import { Alert, Button, Card, Divider, Input, Segmented, Typography } from 'antd';
import { useTranslations } from 'next-intl';
import { LanguageSwitch } from '../shell/language-switch';

interface Props {
  error?: string;
  reason?: string;
  as: 'mailbox' | 'operator';
  next: string;
  sso: boolean;
}

export function SignInForm({ error, reason, as: initialAs, next, sso }: Props) {
  const t = useTranslations('signIn');
  const [as, setAs] = useState(initialAs);
  return (
    <main style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', padding: 16 }}>
      <Card style={{ width: '100%', maxWidth: 420 }}>
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'start', gap: 8 }}>
          <div>
            <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
              {t('title')}
            </Typography.Title>
            <Typography.Paragraph type="secondary">{t('subtitle')}</Typography.Paragraph>
          </div>
          <LanguageSwitch />
        </div>
        {error && <Alert role="alert" type="error" showIcon title={t(`errors.${error}`)} style={{ marginBottom: 16 }} />}
        {!error && reason && <Alert role="status" type="info" showIcon title={t(`reasons.${reason}`)} style={{ marginBottom: 16 }} />}
        {sso && (
          <>
            <Button type="primary" block size="large" href={`/auth/oidc/start${next ? `?next=${encodeURIComponent(next)}` : ''}`} data-testid="sso">
              {t('sso')}
            </Button>
            <Divider plain>{t('or')}</Divider>
          </>
        )}
        <Segmented
          block
          value={as}
          onChange={(v) => setAs(v as Props['as'])}
          options={[
            { label: t('asAdmin'), value: 'mailbox' },
            { label: t('asOperator'), value: 'operator' },
          ]}
          style={{ marginBottom: 16 }}
          aria-label={t('title')}
        />
        <form method="post" action="/auth/sign-in">
          <input type="hidden" name="as" value={as} />
          <input type="hidden" name="next" value={next} />
          <label htmlFor="username" style={{ display: 'block', marginBottom: 4 }}>
            {as === 'operator' ? t('username') : t('address')}
          </label>
          <Input id="username" name="username" autoComplete="username" required size="large" aria-describedby={as === 'mailbox' ? 'username-hint' : undefined} />
          {as === 'mailbox' && (
            <Typography.Text id="username-hint" type="secondary" style={{ fontSize: 12 }}>
              {t('addressHint')}
            </Typography.Text>
          )}
          <label htmlFor="password" style={{ display: 'block', margin: '12px 0 4px' }}>
            {t('password')}
          </label>
          <Input.Password id="password" name="password" autoComplete="current-password" required size="large" />
          <Button htmlType="submit" type={sso ? 'default' : 'primary'} block size="large" style={{ marginTop: 20 }}>
            {t('submit')}
          </Button>
        </form>
      </Card>
    </main>
  );
}
