import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../lib/server-api';
import { SmtpSettingsForm } from '../../../../ui/settings/smtp-settings-form';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('settings'))('title') };
}

export default async function SettingsPage() {
  const { api } = await requireSession();
  return <SmtpSettingsForm initial={await load(api.settings.smtp())} />;
}
