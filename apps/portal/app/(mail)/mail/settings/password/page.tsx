import { PasswordSettings } from '../../../../../ui/mail/settings/password-settings';

export default function PasswordSettingsPage() {
  return <PasswordSettings />;
}
