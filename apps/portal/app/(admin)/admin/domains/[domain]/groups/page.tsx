import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../../lib/server-api';
import { GroupList } from '../../../../../../ui/groups/group-list';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('domains.nav'))('groups') };
}

export default async function DomainGroupsPage({ params }: { params: Promise<{ domain: string }> }) {
  const { domain: name } = await params;
  const { api } = await requireSession();
  return <GroupList domain={await load(api.domains.get(decodeURIComponent(name)))} />;
}
