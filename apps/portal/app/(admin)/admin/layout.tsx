import type { ReactNode } from 'react';
import { redirect } from 'next/navigation';
import { requireSession } from '../../../lib/server-api';
import { isConsoleRole } from '../../../lib/session';
import { ConsoleShell } from '../../../ui/shell/console-shell';

/** Tenant and domain admins (and operators, who see every tenant's domains here); what each sees is the API's scope. */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const { session } = await requireSession();
  if (!isConsoleRole(session.actor.role)) redirect('/sign-in?error=not_admin');
  return <ConsoleShell actor={session.actor}>{children}</ConsoleShell>;
}
