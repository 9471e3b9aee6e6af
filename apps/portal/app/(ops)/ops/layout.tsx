import type { ReactNode } from 'react';
import { redirect } from 'next/navigation';
import { requireSession } from '../../../lib/server-api';
import { ConsoleShell } from '../../../ui/shell/console-shell';

/** Operators only; admins who type /ops land in their own console. */
export default async function OpsLayout({ children }: { children: ReactNode }) {
  const { session } = await requireSession();
  if (session.actor.role !== 'operator') redirect('/admin');
  return <ConsoleShell actor={session.actor}>{children}</ConsoleShell>;
}
