import { VacationSettings } from '../../../../../ui/mail/settings/vacation-settings';

export default function VacationSettingsPage() {
  return <VacationSettings />;
}
