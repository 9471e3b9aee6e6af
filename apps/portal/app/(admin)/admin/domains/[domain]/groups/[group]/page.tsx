import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../../../lib/server-api';
import { GroupDetail } from '../../../../../../../ui/groups/group-detail';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('domains.nav'))('groups') };
}

/** The group must belong to the domain in the URL: another domain's group is not found here. */
export default async function GroupPage({ params }: { params: Promise<{ domain: string; group: string }> }) {
  const { domain: name, group: address } = await params;
  const { api } = await requireSession();
  const domain = await load(api.domains.get(decodeURIComponent(name)));
  const group = await load(api.groups.get(decodeURIComponent(address)));
  if (group.domainId !== domain.id) notFound();
  return <GroupDetail domain={domain} group={group} />;
}
