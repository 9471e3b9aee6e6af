'use client';
/** The webmail settings' frame: a section list (a row of tabs on a phone) beside the section's page. */
import type { ReactNode } from 'react';
import { useTranslations } from 'next-intl';
import { usePathname } from 'next/navigation';

/** Sections; filters and quarantine are other features' pages, linked here. */
const SECTIONS = [
  ['general', '/mail/settings/general'],
  ['vacation', '/mail/settings/vacation'],
  ['forwarding', '/mail/settings/forwarding'],
  ['password', '/mail/settings/password'],
  ['images', '/mail/settings/images'],
  ['folders', '/mail/settings/folders'],
  ['filters', '/mail/settings/filters'],
  ['quarantine', '/mail/quarantine'],
] as const;

export function SettingsShell({ name, children }: { name: string; children: ReactNode }) {
  const t = useTranslations('mailRead.settings');
  const path = usePathname();
  return (
    <div className="ws">
      <header className="ws-top">
        <a href="/mail" className="ws-back">
          {t('back')}
        </a>
        <span className="ws-title">{t('title')}</span>
        <span className="ws-user">{name}</span>
      </header>
      <div className="ws-grid">
        <nav className="ws-nav" aria-label={t('title')}>
          <ul>
            {SECTIONS.map(([key, href]) => (
              <li key={key}>
                <a href={href} aria-current={path === href ? 'page' : undefined} className={path === href ? 'ws-current' : undefined}>
                  {t(`nav.${key}`)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main className="ws-main">{children}</main>
      </div>
    </div>
  );
}
