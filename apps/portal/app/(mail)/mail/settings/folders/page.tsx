import { FolderSettings } from '../../../../../ui/mail/settings/folder-settings';

export default function FolderSettingsPage() {
  return <FolderSettings />;
}
