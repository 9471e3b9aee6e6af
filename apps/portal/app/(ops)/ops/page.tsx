import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../lib/server-api';
import { DashboardView } from '../../../ui/dashboard/dashboard-view';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('dashboard'))('title') };
}

export default async function DashboardPage() {
  const { api } = await requireSession();
  const data = await load(api.dashboard({ hours: 48, days: 30 }));
  return <DashboardView data={data} />;
}
