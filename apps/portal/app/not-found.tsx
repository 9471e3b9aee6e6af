import Link from 'next/link';
import { getTranslations } from 'next-intl/server';

export default async function NotFound() {
  const t = await getTranslations('common');
  return (
    <main style={{ padding: 48, textAlign: 'center' }}>
      <h1>404</h1>
      <p>
        <Link href="/">{t('back')}</Link>
      </p>
    </main>
  );
}
