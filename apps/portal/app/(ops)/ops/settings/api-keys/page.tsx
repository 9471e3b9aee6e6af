import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { ApiKeys } from '../../../../../ui/settings/api-keys';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('opsSettings.apiKeys'))('title') };
}

/** Operators only (the layout); the list is fetched by the page, through the relay. */
export default function ApiKeysPage() {
  return <ApiKeys />;
}
