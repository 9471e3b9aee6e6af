import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../lib/server-api';
import { MailboxDirectory } from '../../../../../ui/mailboxes/mailbox-directory';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('domains'))('open') };
}

/** A domain outside the admin's scope answers 404 from the API, and so here. */
export default async function DomainMailboxesPage({ params }: { params: Promise<{ domain: string }> }) {
  const { domain: name } = await params;
  const { api } = await requireSession();
  const domain = await load(api.domains.get(decodeURIComponent(name)));
  return <MailboxDirectory domain={domain} backHref="/admin" />;
}
