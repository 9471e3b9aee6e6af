/**
 * RCPT: an SRS address in one of our domains (the sender of mail we forwarded, libs/smtp/src/srs/srs.ts) is a
 * bounce or reply on its way back. One we made, within its age, becomes the address it stands for: a remote one
 * is accepted for relaying back out (no other relay rule applies), a local one goes on to the usual existence and
 * quota checks. A forged or expired one is refused, so nobody can use us as a relay through made-up SRS addresses.
 */
import { addressKey } from '@dizi/domain/lookup-key';
import type { Check, RcptInput } from '../pipeline';
import type { RecipientResolution } from '../ports';
import { isSrsAddress } from '../../srs/srs';
import { ACCEPT, CONTINUE, reject } from '../verdict';

export const srsBounceCheck: Check<RcptInput> = {
  name: 'srs-bounce',
  async run(input) {
    const { deps, recipient } = input;
    if (!deps.srs || !isSrsAddress(recipient)) return CONTINUE;
    // Someone else's SRS address: an ordinary remote recipient.
    if ((await input.resolution()).kind === 'remote') return CONTINUE;
    const reversed = deps.srs.reverse(recipient);
    if (!reversed.ok) {
      return reject(550, '5.1.1', reversed.reason === 'expired' ? 'Recipient address rejected: bounce address has expired' : 'Recipient address rejected: invalid bounce address');
    }
    const original = addressKey(reversed.address);
    let resolved: Promise<RecipientResolution> | undefined;
    input.reversedFrom = recipient;
    input.recipient = original;
    input.resolution = () => (resolved ??= deps.directory.resolveRecipient(original));
    return (await input.resolution()).kind === 'remote' ? ACCEPT : CONTINUE;
  },
};
