import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../lib/server-api';
import { TenantDetail } from '../../../../../ui/tenants/tenant-detail';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('tenants'))('title') };
}

export default async function TenantPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { api } = await requireSession();
  const [tenant, domains] = await Promise.all([load(api.tenants.get(id)), load(api.domains.list({ tenantId: id, limit: 500 }))]);
  return <TenantDetail tenant={tenant} domains={domains.items} />;
}
