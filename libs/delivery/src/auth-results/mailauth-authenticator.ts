/**
 * MessageAuthenticator on mailauth (check-message.ts) with our DNS servers: SPF, DKIM, DMARC and ARC of one
 * inbound message. The whole check runs against a deadline; a check that misses it, or whose DNS fails, reports
 * temperror (RFC 7489 §6.6.3 leaves the handling to us: the dmarc-policy check applies dmarcTempErrorAction), and
 * never throws into the SMTP session.
 */
import type { DNSResolver } from 'mailauth';
import type { MessageAuthenticator, MessageAuthReport, MessageAuthRequest } from '@dizi/smtp/inbound/content/message-auth';
import { checkMessageAuth } from './check-message';
import { createDnsResolver } from './dns-resolver';

export class MailauthMessageAuthenticator implements MessageAuthenticator {
  /** One resolver (and its cache) per query timeout and cache time (settings that may change at runtime). */
  private readonly resolvers = new Map<string, DNSResolver>();

  constructor(private readonly servers: string | readonly string[]) {}

  async check(req: MessageAuthRequest): Promise<MessageAuthReport> {
    let timer: NodeJS.Timeout | undefined;
    // The deadline runs from the end of the message: a large or slow DATA is not the lookups' fault.
    const timedOut = new Promise<'timeout'>((resolve) => {
      req.message.once('end', () => {
        timer = setTimeout(() => resolve('timeout'), req.timeoutMs);
        timer.unref();
      });
    });
    const checking = checkMessageAuth({
      message: req.message,
      clientIp: req.clientIp,
      helo: req.helo,
      mailFrom: req.mailFrom,
      hostname: req.authservId,
      resolver: this.resolver(req.dnsTimeoutMs, req.dnsCacheMs ?? 0),
    });
    try {
      const r = await Promise.race([checking, timedOut]);
      if (r === 'timeout') {
        // The message must still be read to its end by someone: mailauth goes on and its answer is dropped.
        checking.catch(() => undefined);
        return temperror(req.authservId, `checks took longer than ${req.timeoutMs} ms`);
      }
      const v = r.verdicts;
      return {
        headers: [r.authenticationResults, ...(r.receivedSpf ? [r.receivedSpf] : [])],
        spf: v.spf.result,
        dkim: v.dkim.length ? v.dkim.map((d) => d.result) : ['none'],
        dmarc: { result: v.dmarc.result, fromDomain: v.dmarc.fromDomain, orgDomain: v.dmarc.domain, policy: v.dmarc.policy, percent: v.dmarc.percent },
        arc: v.arc,
        error: r.error,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private resolver(timeoutMs: number, cacheMs: number): DNSResolver {
    const key = `${timeoutMs}/${cacheMs}`;
    let r = this.resolvers.get(key);
    if (!r) {
      r = createDnsResolver(this.servers, { timeoutMs, tries: 2, cacheMs });
      this.resolvers.set(key, r);
    }
    return r;
  }
}

function temperror(authservId: string, why: string): MessageAuthReport {
  return {
    headers: [`Authentication-Results: ${authservId};\r\n spf=temperror (${why});\r\n dkim=temperror;\r\n dmarc=temperror\r\n`],
    spf: 'temperror',
    dkim: ['temperror'],
    dmarc: { result: 'temperror', fromDomain: null, orgDomain: null, policy: null, percent: 100 },
    arc: { result: 'none', sealer: null, sealerDmarc: null },
    error: why,
  };
}
