import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../../lib/server-api';
import { MailboxImport } from '../../../../../../ui/mailboxes/mailbox-import';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('import'))('link') };
}

/** CSV import into one domain; a domain outside the admin's scope is a 404. */
export default async function DomainImportPage({ params }: { params: Promise<{ domain: string }> }) {
  const { domain: name } = await params;
  const { api } = await requireSession();
  const domain = await load(api.domains.get(decodeURIComponent(name)));
  return <MailboxImport domain={domain} />;
}
