'use client';
/** The operator's settings pages: mail nodes, mail templates, registration codes, API keys. */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useTranslations } from 'next-intl';

export function SettingsNav() {
  const t = useTranslations('opsSettings.nav');
  const path = usePathname();
  const links = [
    { href: '/ops/settings', label: t('mail') },
    { href: '/ops/settings/templates', label: t('templates') },
    { href: '/ops/settings/codes', label: t('codes') },
    { href: '/ops/settings/api-keys', label: t('apiKeys') },
  ];
  return (
    <nav aria-label={t('label')} className="domain-nav">
      {links.map((l) => (
        <Link key={l.href} href={l.href} aria-current={path === l.href ? 'page' : undefined}>
          {l.label}
        </Link>
      ))}
    </nav>
  );
}
