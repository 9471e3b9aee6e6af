'use client';
/** The frame of every console page: navigation for the signed-in role, language, who is signed in, sign-out. */
import type { ReactNode } from 'react';
import { Button, Layout, Menu, Typography } from 'antd';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useTranslations } from 'next-intl';
import type { SessionActor } from '../../lib/session';
import { LanguageSwitch } from './language-switch';
import { StatusTag } from '../status-tag';

interface NavItem {
  href: string;
  label: string;
}

export function ConsoleShell({ actor, children }: { actor: SessionActor; children: ReactNode }) {
  const t = useTranslations();
  const path = usePathname();
  const items: NavItem[] =
    actor.role === 'operator'
      ? [
          { href: '/ops', label: t('nav.dashboard') },
          { href: '/ops/tenants', label: t('nav.tenants') },
          { href: '/admin', label: t('nav.domains') },
          { href: '/ops/logs', label: t('nav.mailLog') },
          { href: '/ops/queue', label: t('nav.queue') },
          { href: '/ops/nodes', label: t('nav.nodes') },
          { href: '/ops/audit', label: t('nav.audit') },
          { href: '/ops/settings', label: t('nav.settings') },
        ]
      : [{ href: '/admin', label: t('nav.domains') }];
  // The longest matching prefix is the current section (/ops/tenants/x → Tenants, not Dashboard).
  const selected = items.filter((i) => path === i.href || path.startsWith(`${i.href}/`)).sort((a, b) => b.href.length - a.href.length)[0]?.href;

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <a className="skip-link" href="#content">
        {t('app.skip')}
      </a>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light" width={208} style={{ borderRight: '1px solid #e5e7eb' }} zeroWidthTriggerStyle={{ top: 12 }}>
        <div style={{ padding: '16px 20px', fontWeight: 600, fontSize: 18 }}>
          {t('app.name')} <span style={{ fontWeight: 400, fontSize: 14 }}>{actor.role === 'operator' ? t('nav.opsConsole') : t('nav.adminConsole')}</span>
        </div>
        <nav aria-label={t('common.menu')}>
          <Menu mode="inline" selectedKeys={selected ? [selected] : []} items={items.map((i) => ({ key: i.href, label: <Link href={i.href}>{i.label}</Link> }))} style={{ borderInlineEnd: 'none' }} />
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: '#fff', padding: '0 16px 0 56px', display: 'flex', alignItems: 'center', justifyContent: 'flex-end', gap: 12, borderBottom: '1px solid #e5e7eb', flexWrap: 'nowrap' }}>
          <Typography.Text ellipsis style={{ maxWidth: 220 }} data-testid="signed-in-as">
            {actor.name}
          </Typography.Text>
          <StatusTag tone="info">
            {t(`roles.${actor.role}`)}
          </StatusTag>
          <LanguageSwitch />
          <form method="post" action="/auth/sign-out">
            <Button htmlType="submit" size="small">
              {t('common.signOut')}
            </Button>
          </form>
        </Layout.Header>
        <Layout.Content id="content" style={{ padding: 16 }}>
          <main>{children}</main>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
