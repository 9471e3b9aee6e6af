import { redirect } from 'next/navigation';
import { currentSession } from '../lib/server-api';
import { homeOf } from '../lib/session';

export default async function Home() {
  const session = await currentSession();
  redirect(session ? homeOf(session.actor) : '/sign-in');
}
