'use client';
/** The sections of one domain's administration (mailboxes, aliases, groups, address book, settings, DNS, import), above each of its pages. */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useTranslations } from 'next-intl';

export function DomainNav({ domain, backHref = '/admin' }: { domain: { name: string }; backHref?: string }) {
  const t = useTranslations();
  const path = usePathname();
  const base = `/admin/domains/${encodeURIComponent(domain.name)}`;
  const links = [
    { href: base, label: t('domains.nav.mailboxes') },
    { href: `${base}/aliases`, label: t('domains.nav.aliases') },
    { href: `${base}/groups`, label: t('domains.nav.groups') },
    { href: `${base}/address-book`, label: t('domains.nav.addressBook') },
    { href: `${base}/settings`, label: t('domains.nav.settings') },
    { href: `${base}/dns`, label: t('dns.link') },
    { href: `${base}/import`, label: t('import.link') },
  ];
  // The longest prefix is the current section (…/groups/x is under Groups).
  const current = links.filter((l) => path === l.href || path.startsWith(`${l.href}/`)).sort((a, b) => b.href.length - a.href.length)[0]?.href;
  return (
    <nav aria-label={t('domains.nav.label')} className="domain-nav">
      <Link href={backHref}>← {t('domains.title')}</Link>
      {links.map((l) => (
        <Link key={l.href} href={l.href} aria-current={l.href === current ? 'page' : undefined}>
          {l.label}
        </Link>
      ))}
    </nav>
  );
}
