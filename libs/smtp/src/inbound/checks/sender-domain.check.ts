/** MAIL: optionally, the sender's domain must be able to receive replies and bounces (MX or address record). */
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, defer, reject } from '../verdict';

export const senderDomainCheck: Check<MailInput> = {
  name: 'sender-domain',
  async run({ sender, settings, deps }) {
    if (!sender || !settings.requireResolvableSenderDomain) return CONTINUE;
    const domain = sender.slice(sender.lastIndexOf('@') + 1);
    const found = await deps.resolver.hasMailHost(domain);
    if (found === 'no') return reject(550, '5.1.8', 'Sender address rejected: domain not found');
    if (found === 'unknown') return defer(450, '4.1.8', 'Sender address rejected: domain lookup failed, try again later');
    return CONTINUE;
  },
};
