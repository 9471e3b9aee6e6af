import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../../lib/server-api';
import { DnsCheckView } from '../../../../../../ui/dns/dns-check-view';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('dns'))('title') };
}

/** The records to publish and what the configured resolver answers for each; another admin's domain is a 404. */
export default async function DomainDnsPage({ params }: { params: Promise<{ domain: string }> }) {
  const { domain: name } = await params;
  const { api } = await requireSession();
  const domain = await load(api.domains.get(decodeURIComponent(name)));
  const check = await load(api.domains.checkDns(domain.name));
  return <DnsCheckView domain={domain} initial={check} />;
}
