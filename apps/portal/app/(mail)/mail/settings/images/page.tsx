import { ImageSenderSettings } from '../../../../../ui/mail/settings/image-sender-settings';

export default function ImageSenderSettingsPage() {
  return <ImageSenderSettings />;
}
