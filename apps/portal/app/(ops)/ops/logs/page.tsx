import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../lib/server-api';
import { MailLogTable } from '../../../../ui/logs/mail-log-table';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('mailLog'))('title') };
}

const KINDS = ['session', 'delivery', 'outbound', 'bounce'] as const;

export default async function MailLogPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const p = await searchParams;
  const { api } = await requireSession();
  const kind = KINDS.find((k) => k === p.kind);
  const page = await load(api.mailLog({ q: p.q || undefined, kind, offset: Number(p.offset) || 0, limit: 50 }));
  return <MailLogTable page={page} />;
}
