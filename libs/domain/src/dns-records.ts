/**
 * The DNS records a hosted domain should publish, and the rule that judges what a resolver answered for each:
 * found (it works as published), missing (nothing at that name), wrong (something else is there; the record to
 * set says what). Pure: the lookups happen in the caller.
 */

export type DnsRecordType = 'MX' | 'TXT' | 'SRV';

export type DnsRecordKind = 'mx' | 'spf' | 'dkim' | 'dmarc' | 'srv' | 'mta-sts';

export interface ExpectedDnsRecord {
  kind: DnsRecordKind;
  type: DnsRecordType;
  name: string;
  /** The value to set, in zone-file form (`10 mail.example.com.`, `0 1 993 mail.example.com.`, TXT text). */
  value: string;
  purpose: string;
  /** SRV only: the port the record must name. */
  port?: number;
}

export interface DomainDnsFacts {
  /** ASCII (punycode) name. */
  name: string;
  /** Host name of the mail service clients and other servers reach (MX target, SRV target). */
  mailHost: string;
  dkimSelector: string;
  dkimPublicKey: string | null;
  /** Changes whenever the MTA-STS policy should be fetched again; any id the owner publishes is accepted. */
  mtaStsId: string;
}

/** What a resolver gave for one name and type: MX, SRV or TXT answers, or no data, or a failed lookup. */
export type DnsAnswer =
  | { kind: 'mx'; records: { priority: number; exchange: string }[] }
  | { kind: 'srv'; records: { priority: number; weight: number; port: number; name: string }[] }
  | { kind: 'txt'; records: string[][] }
  | { kind: 'none' }
  | { kind: 'error'; code: string };

export type DnsCheckStatus = 'found' | 'missing' | 'wrong' | 'error';

/** Why a record is wrong, for a translated sentence in the console. */
export type DnsWrongReason = 'different' | 'duplicate' | 'weak-policy';

export interface DnsCheckResult {
  status: DnsCheckStatus;
  reason?: DnsWrongReason;
  /** The answers, written the way the value to set is written. */
  found: string[];
}

/** The public ports mail clients are told to use (SRV records, autoconfig, autodiscover). */
export const CLIENT_PORTS = { submissions: 465, submission: 587, imaps: 993, pop3s: 995, https: 443 } as const;

/** RFC 6186 / RFC 8314 service records mail clients use to configure themselves, and Outlook's autodiscover. */
const SERVICES: { label: string; port: number; purpose: string }[] = [
  { label: '_submissions._tcp', port: CLIENT_PORTS.submissions, purpose: 'client autoconfiguration: mail submission over TLS (RFC 8314)' },
  { label: '_submission._tcp', port: CLIENT_PORTS.submission, purpose: 'client autoconfiguration: mail submission with STARTTLS (RFC 6186)' },
  { label: '_imaps._tcp', port: CLIENT_PORTS.imaps, purpose: 'client autoconfiguration: IMAP over TLS (RFC 6186)' },
  { label: '_pop3s._tcp', port: CLIENT_PORTS.pop3s, purpose: 'client autoconfiguration: POP3 over TLS (RFC 6186)' },
  { label: '_autodiscover._tcp', port: CLIENT_PORTS.https, purpose: 'Outlook autodiscover (served at /autodiscover/autodiscover.xml)' },
];

const bare = (host: string) => host.toLowerCase().replace(/\.$/, '');

export function expectedDnsRecords(d: DomainDnsFacts): ExpectedDnsRecord[] {
  const host = bare(d.mailHost);
  return [
    { kind: 'mx', type: 'MX', name: d.name, value: `10 ${host}.`, purpose: 'where mail for the domain is delivered' },
    { kind: 'spf', type: 'TXT', name: d.name, value: 'v=spf1 mx -all', purpose: 'SPF: who may send for the domain' },
    { kind: 'dkim', type: 'TXT', name: `${d.dkimSelector}._domainkey.${d.name}`, value: `v=DKIM1; k=rsa; p=${d.dkimPublicKey ?? ''}`, purpose: 'DKIM public key' },
    { kind: 'dmarc', type: 'TXT', name: `_dmarc.${d.name}`, value: `v=DMARC1; p=quarantine; rua=mailto:postmaster@${d.name}`, purpose: 'DMARC policy' },
    ...SERVICES.map((s) => ({ kind: 'srv' as const, type: 'SRV' as const, name: `${s.label}.${d.name}`, value: `0 1 ${s.port} ${host}.`, port: s.port, purpose: s.purpose })),
    { kind: 'mta-sts', type: 'TXT', name: `_mta-sts.${d.name}`, value: `v=STSv1; id=${d.mtaStsId}`, purpose: 'MTA-STS: senders must use TLS to the MX (policy served at https://mta-sts.<domain>/.well-known/mta-sts.txt)' },
  ];
}

/** `k=v; k=v` tags of DKIM, DMARC and MTA-STS records (lower-cased names). */
function tags(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
  }
  return out;
}

function txtJudge(texts: string[], e: ExpectedDnsRecord, mailHost: string): DnsCheckResult {
  const found = texts;
  const lower = (s: string) => s.trim().toLowerCase();
  switch (e.kind) {
    case 'spf': {
      const spf = texts.filter((t) => /^v=spf1(\s|$)/i.test(t.trim()));
      if (!spf.length) return { status: 'missing', found };
      // Two SPF records are a permanent error for every receiver (RFC 7208 §4.5).
      if (spf.length > 1) return { status: 'wrong', reason: 'duplicate', found };
      const terms = lower(spf[0]).split(/\s+/).slice(1);
      const allowsMx = terms.some((t) => /^\+?mx$/.test(t) || t === `+a:${mailHost}` || t === `a:${mailHost}` || t === `+mx:${mailHost}` || t === `mx:${mailHost}`);
      const ends = terms.some((t) => t === '-all' || t === '~all');
      return allowsMx && ends ? { status: 'found', found } : { status: 'wrong', reason: 'different', found };
    }
    case 'dkim': {
      const keys = texts.filter((t) => tags(t).has('p'));
      if (!keys.length) return { status: 'missing', found };
      const want = tags(e.value).get('p')!.replace(/\s+/g, '');
      return keys.some((t) => tags(t).get('p')!.replace(/\s+/g, '') === want) ? { status: 'found', found } : { status: 'wrong', reason: 'different', found };
    }
    case 'dmarc': {
      const dmarc = texts.filter((t) => /^v=dmarc1\s*(;|$)/i.test(t.trim()));
      if (!dmarc.length) return { status: 'missing', found };
      if (dmarc.length > 1) return { status: 'wrong', reason: 'duplicate', found };
      const p = lower(tags(dmarc[0]).get('p') ?? '');
      if (p === 'quarantine' || p === 'reject') return { status: 'found', found };
      return { status: 'wrong', reason: p === 'none' ? 'weak-policy' : 'different', found };
    }
    case 'mta-sts': {
      const sts = texts.filter((t) => /^v=stsv1\s*(;|$)/i.test(t.trim()));
      if (!sts.length) return { status: 'missing', found };
      if (sts.length > 1) return { status: 'wrong', reason: 'duplicate', found };
      // RFC 8461 §3.1: id is 1–32 letters and digits; its value is the publisher's choice.
      return /^[a-z0-9]{1,32}$/i.test(tags(sts[0]).get('id') ?? '') ? { status: 'found', found } : { status: 'wrong', reason: 'different', found };
    }
    default:
      return { status: 'wrong', reason: 'different', found };
  }
}

/** Judges the answer for one expected record; `mailHost` is the host the MX and SRV records must name. */
export function judgeDnsAnswer(e: ExpectedDnsRecord, answer: DnsAnswer, mailHost: string): DnsCheckResult {
  const host = bare(mailHost);
  if (answer.kind === 'error') return { status: 'error', found: [] };
  if (answer.kind === 'none') return { status: 'missing', found: [] };
  if (e.type === 'MX' && answer.kind === 'mx') {
    const found = answer.records.map((r) => `${r.priority} ${bare(r.exchange)}.`);
    if (!found.length) return { status: 'missing', found };
    return answer.records.some((r) => bare(r.exchange) === host) ? { status: 'found', found } : { status: 'wrong', reason: 'different', found };
  }
  if (e.type === 'SRV' && answer.kind === 'srv') {
    const found = answer.records.map((r) => `${r.priority} ${r.weight} ${r.port} ${bare(r.name)}.`);
    if (!found.length) return { status: 'missing', found };
    return answer.records.some((r) => bare(r.name) === host && r.port === e.port) ? { status: 'found', found } : { status: 'wrong', reason: 'different', found };
  }
  if (e.type === 'TXT' && answer.kind === 'txt') return txtJudge(answer.records.map((chunks) => chunks.join('')), e, host);
  return { status: 'error', found: [] };
}
