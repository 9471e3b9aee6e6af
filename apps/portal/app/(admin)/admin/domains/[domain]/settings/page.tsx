import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../../lib/server-api';
import { DomainSettings } from '../../../../../../ui/domains/domain-settings';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('domains.nav'))('settings') };
}

/** What the form offers follows the role (limits: tenant admins and operators; default domain: operators). */
export default async function DomainSettingsPage({ params }: { params: Promise<{ domain: string }> }) {
  const { domain: name } = await params;
  const { api, session } = await requireSession();
  return <DomainSettings domain={await load(api.domains.get(decodeURIComponent(name)))} role={session.actor.role} />;
}
