import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../../lib/server-api';
import { DomainAddressBook } from '../../../../../../ui/address-book/domain-address-book';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('domains.nav'))('addressBook') };
}

export default async function DomainAddressBookPage({ params }: { params: Promise<{ domain: string }> }) {
  const { domain: name } = await params;
  const { api } = await requireSession();
  const domain = await load(api.domains.get(decodeURIComponent(name)));
  const books = await load(api.addressBooks.list({ domain: domain.id, limit: 50 }));
  return <DomainAddressBook domain={domain} initialBooks={books.items.filter((b) => b.domainId === domain.id)} />;
}
