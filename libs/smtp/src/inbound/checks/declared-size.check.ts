/** MAIL: SIZE= (RFC 1870) over the limit is refused before any data is sent. */
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

export const declaredSizeCheck: Check<MailInput> = {
  name: 'declared-size',
  run({ declaredSize, settings }) {
    if (declaredSize !== null && declaredSize > settings.maxMessageBytes) {
      return reject(552, '5.3.4', `Message size exceeds the limit of ${settings.maxMessageBytes} bytes`);
    }
    return CONTINUE;
  },
};
