import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../../lib/server-api';
import { AliasList } from '../../../../../../ui/aliases/alias-list';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('domains.nav'))('aliases') };
}

/** A domain outside the admin's scope answers 404 from the API, and so here. */
export default async function DomainAliasesPage({ params }: { params: Promise<{ domain: string }> }) {
  const { domain: name } = await params;
  const { api } = await requireSession();
  return <AliasList domain={await load(api.domains.get(decodeURIComponent(name)))} />;
}
