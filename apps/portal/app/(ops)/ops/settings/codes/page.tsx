import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { RegistrationCodes } from '../../../../../ui/settings/registration-codes';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('opsSettings.codes'))('title') };
}

/** Operators only (the layout); the list is fetched by the page, through the relay. */
export default function RegistrationCodesPage() {
  return <RegistrationCodes />;
}
