'use client';
/** 简体中文 / English: remembered in a cookie (not a secret), the page re-rendered on the server in the new language. */
import { Select } from 'antd';
import { useLocale, useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';

export function LanguageSwitch() {
  const locale = useLocale();
  const router = useRouter();
  const t = useTranslations('common');
  return (
    <Select
      size="small"
      aria-label={t('language')}
      value={locale}
      style={{ width: 104 }}
      onChange={(v: string) => {
        document.cookie = `dizi_locale=${v}; path=/; max-age=31536000; samesite=lax`;
        router.refresh();
      }}
      options={[
        { value: 'zh-CN', label: '简体中文' },
        { value: 'en', label: 'English' },
      ]}
    />
  );
}
