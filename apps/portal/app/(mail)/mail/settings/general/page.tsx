import { GeneralSettings } from '../../../../../ui/mail/settings/general-settings';

export default function GeneralSettingsPage() {
  return <GeneralSettings />;
}
