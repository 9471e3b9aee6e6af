import { requireSession } from '../../../../../lib/server-api';
import { ForwardingSettings } from '../../../../../ui/mail/settings/forwarding-settings';

export default async function ForwardingSettingsPage() {
  const { session } = await requireSession();
  return <ForwardingSettings mailbox={session.actor.name} />;
}
