import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { getTranslations } from 'next-intl/server';
import { requireSession } from '../../../../../lib/server-api';
import { homeOf } from '../../../../../lib/session';
import { Webmail } from '../../../../../ui/mail/webmail';
import '../../../../../ui/mail/webmail.css';

export async function generateMetadata(): Promise<Metadata> {
  return { title: { absolute: (await getTranslations('mail'))('title') } };
}

/** A message on a page of its own (deep link): the webmail opened on it, the list behind it for "back". */
export default async function MessagePage({ params }: { params: Promise<{ id: string }> }) {
  const { session } = await requireSession();
  if (!session.actor.mailboxId) redirect(homeOf(session.actor));
  const { id } = await params;
  return <Webmail name={session.actor.name} initialOpen={decodeURIComponent(id)} />;
}
