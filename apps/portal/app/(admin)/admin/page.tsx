import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../lib/server-api';
import { DomainList } from '../../../ui/domains/domain-list';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('domains'))('title') };
}

export default async function DomainsPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const p = await searchParams;
  const { api } = await requireSession();
  const page = await load(api.domains.list({ q: p.q, offset: Number(p.offset) || 0, limit: Math.min(Number(p.limit) || 50, 500) }));
  return <DomainList page={page} />;
}
