/** MAIL: the null sender (bounces, RFC 5321 §4.5.5) only when the operators allow it. */
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

export const nullSenderCheck: Check<MailInput> = {
  name: 'null-sender',
  run({ sender, settings }) {
    if (sender === '' && !settings.allowNullSender) return reject(550, '5.7.1', 'Null sender is not accepted here');
    return CONTINUE;
  },
};
