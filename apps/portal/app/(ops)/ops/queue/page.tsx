import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../lib/server-api';
import { QueueTable } from '../../../../ui/logs/queue-table';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('queue'))('title') };
}

export default async function QueuePage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const p = await searchParams;
  const { api } = await requireSession();
  const status = p.status === 'queued' || p.status === 'deferred' ? p.status : undefined;
  const held = p.held === 'true' ? true : p.held === 'false' ? false : undefined;
  const olderThanMinutes = Number(p.older) > 0 ? Math.min(Number(p.older), 525_600) : undefined;
  const page = await load(api.queue({ q: p.q || undefined, status, held, olderThanMinutes, domain: p.domain || undefined, offset: Number(p.offset) || 0, limit: 50 }));
  return <QueueTable page={page} />;
}
