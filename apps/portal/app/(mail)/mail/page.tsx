import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { getTranslations } from 'next-intl/server';
import { requireSession } from '../../../lib/server-api';
import { homeOf } from '../../../lib/session';
import { Webmail } from '../../../ui/mail/webmail';
import '../../../ui/mail/webmail.css';

export async function generateMetadata(): Promise<Metadata> {
  return { title: { absolute: (await getTranslations('mail'))('title') } };
}

/** The webmail, for anyone signed in with a mailbox (users, and admins reading their own mail). */
export default async function MailPage() {
  const { session } = await requireSession();
  if (!session.actor.mailboxId) redirect(homeOf(session.actor));
  return <Webmail name={session.actor.name} />;
}
