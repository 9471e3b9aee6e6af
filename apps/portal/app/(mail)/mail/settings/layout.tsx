import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { redirect } from 'next/navigation';
import { getTranslations } from 'next-intl/server';
import { requireSession } from '../../../../lib/server-api';
import { homeOf } from '../../../../lib/session';
import { SettingsShell } from '../../../../ui/mail/settings/settings-shell';
import '../../../../ui/mail/settings/settings.css';

export async function generateMetadata(): Promise<Metadata> {
  return { title: { absolute: `${(await getTranslations('mailRead.settings'))('title')} · ${(await getTranslations('mail'))('title')}` } };
}

/** The webmail's settings, for mailbox users. */
export default async function SettingsLayout({ children }: { children: ReactNode }) {
  const { session } = await requireSession();
  if (!session.actor.mailboxId) redirect(homeOf(session.actor));
  return <SettingsShell name={session.actor.name}>{children}</SettingsShell>;
}
