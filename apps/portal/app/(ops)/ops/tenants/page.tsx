import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../lib/server-api';
import { TenantList } from '../../../../ui/tenants/tenant-list';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('tenants'))('title') };
}

export default async function TenantsPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const p = await searchParams;
  const { api } = await requireSession();
  const status = p.status === 'active' || p.status === 'suspended' ? p.status : undefined;
  const page = await load(api.tenants.list({ q: p.q, status, offset: Number(p.offset) || 0, limit: Math.min(Number(p.limit) || 20, 500) }));
  return <TenantList page={page} />;
}
