import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../../lib/server-api';
import { TemplateEditor } from '../../../../../ui/settings/template-editor';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('opsSettings.templates'))('title') };
}

export default async function TemplatesPage() {
  const { api } = await requireSession();
  return <TemplateEditor initial={await load(api.settings.templates())} />;
}
