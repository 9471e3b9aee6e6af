/**
 * Content, MX mail: the sender domain's DMARC policy (RFC 7489 §6.6), applied before the final reply so a refused
 * message never becomes a bounce. The Authentication-Results / Received-SPF lines go on every delivered copy first.
 * - fail + p=reject: 550 5.7.1; fail + p=quarantine: delivered to Junk. pct= below 100 samples: a message outside
 *   the sample gets the next milder policy (§6.6.4).
 * - The operators may override the published policy per From domain (dmarcPolicyOverrides: exact domain, then its
 *   organisational domain), or turn enforcement off (dmarcEnforce: results are still recorded).
 * - A message whose ARC chain passes (RFC 8617) and was last sealed by a forwarder the operators trust
 *   (arcTrustedSealers), which recorded dmarc=pass when it received the message, is not punished for the DMARC
 *   failure its forwarding caused (mailing lists, forwarders rewriting the body).
 * - temperror (DNS failing or too slow): accepted, or 451 4.7.5 so the sender retries (dmarcTempErrorAction).
 * Signed-in users' mail (submission ports) is not checked at all: their identity is the login (sender-login).
 */
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { DmarcPolicy } from '../content/message-auth';
import type { Check, ContentInput } from '../pipeline';
import { CONTINUE, defer, reject } from '../verdict';

const MILDER: Record<DmarcPolicy, DmarcPolicy> = { reject: 'quarantine', quarantine: 'none', none: 'none' };

function overrideFor(settings: SmtpSettings, ...domains: Array<string | null>): DmarcPolicy | null {
  for (const d of domains) if (d && Object.hasOwn(settings.dmarcPolicyOverrides, d)) return settings.dmarcPolicyOverrides[d];
  return null;
}

export const dmarcPolicyCheck: Check<ContentInput> = {
  name: 'dmarc-policy',
  run({ settings, auth, marks, random }) {
    if (!auth) return CONTINUE;
    marks.headers.push(...auth.headers);
    const { dmarc, arc } = auth;
    const note = (s: string) => marks.notes.push(`dmarc: ${s}`);
    if (dmarc.result === 'temperror') {
      note(`temperror${auth.error ? ` (${auth.error})` : ''}`);
      if (settings.dmarcEnforce && settings.dmarcTempErrorAction === 'defer') {
        return defer(451, '4.7.5', 'Sender authentication (DMARC) could not be checked, try again later');
      }
      return CONTINUE;
    }
    if (dmarc.result !== 'fail' || !dmarc.policy) {
      if (dmarc.result !== 'none') note(dmarc.result);
      return CONTINUE;
    }
    const overridden = overrideFor(settings, dmarc.fromDomain, dmarc.orgDomain);
    let policy: DmarcPolicy = overridden ?? dmarc.policy;
    if (!overridden && dmarc.percent < 100 && random() * 100 >= dmarc.percent) policy = MILDER[policy];
    // From the message's header: only name characters go into our reply and log.
    const domain = (dmarc.fromDomain ?? dmarc.orgDomain ?? '').replace(/[^a-z0-9.-]/g, '?').slice(0, 253);
    const described = `fail, ${domain} p=${dmarc.policy}${overridden ? `, override ${overridden}` : ''}`;
    if (policy === 'none') {
      note(described);
      return CONTINUE;
    }
    if (arc.result === 'pass' && arc.sealer && arc.sealerDmarc === 'pass' && settings.arcTrustedSealers.includes(arc.sealer)) {
      note(`${described}; forgiven, trusted ARC chain sealed by ${arc.sealer}`);
      return CONTINUE;
    }
    if (!settings.dmarcEnforce) {
      note(`${described}; not enforced`);
      return CONTINUE;
    }
    if (policy === 'reject') {
      note(`${described}, rejected`);
      return reject(550, '5.7.1', `Message rejected: DMARC policy of ${domain} (unauthenticated mail from this domain)`);
    }
    note(`${described}, Junk`);
    marks.folder ??= 'junk';
    return CONTINUE;
  },
};
