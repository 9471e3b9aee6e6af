import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../lib/server-api';
import { AuditTable } from '../../../../ui/audit/audit-table';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('audit'))('title') };
}

/** Every change and sign-in the API recorded, newest first, filtered by action (or prefix) and actor. */
export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const p = await searchParams;
  const { api } = await requireSession();
  const page = await load(api.audit({ action: p.action || undefined, actor: p.actor || undefined, offset: Number(p.offset) || 0, limit: 50 }));
  return <AuditTable page={page} />;
}
