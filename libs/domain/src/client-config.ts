/**
 * What mail clients and sending servers fetch over HTTPS to configure themselves for a hosted domain: Thunderbird's
 * autoconfig (config-v1.1.xml, also read by K-9/FairEmail and Evolution), Outlook's POX autodiscover, and the MTA-STS
 * policy (RFC 8461 §3.2). Pure: the caller finds the domain and its settings.
 */
import { CLIENT_PORTS } from './dns-records';

export interface ClientConfigFacts {
  /** ASCII (punycode) domain name. */
  domain: string;
  /** Host name clients connect to (the SRV records' target). */
  mailHost: string;
  imap: boolean;
  pop3: boolean;
  smtp: boolean;
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Thunderbird's autoconfig file: every enabled protocol over implicit TLS, submission with STARTTLS as a second choice. */
export function thunderbirdAutoconfig(f: ClientConfigFacts): string {
  const host = xml(f.mailHost);
  const server = (tag: 'incomingServer' | 'outgoingServer', type: string, port: number, socket: 'SSL' | 'STARTTLS') =>
    [
      `    <${tag} type="${type}">`,
      `      <hostname>${host}</hostname>`,
      `      <port>${port}</port>`,
      `      <socketType>${socket}</socketType>`,
      '      <authentication>password-cleartext</authentication>',
      '      <username>%EMAILADDRESS%</username>',
      `    </${tag}>`,
    ].join('\n');
  const servers = [
    f.imap && server('incomingServer', 'imap', CLIENT_PORTS.imaps, 'SSL'),
    f.pop3 && server('incomingServer', 'pop3', CLIENT_PORTS.pop3s, 'SSL'),
    f.smtp && server('outgoingServer', 'smtp', CLIENT_PORTS.submissions, 'SSL'),
    f.smtp && server('outgoingServer', 'smtp', CLIENT_PORTS.submission, 'STARTTLS'),
  ].filter(Boolean);
  const domain = xml(f.domain);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${domain}">`,
    `    <domain>${domain}</domain>`,
    `    <displayName>${domain}</displayName>`,
    `    <displayShortName>${domain}</displayShortName>`,
    ...servers,
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}

/** The address an Outlook autodiscover request asks about (`<EMailAddress>`), or null when there is none. */
export function autodiscoverAddress(requestXml: string): string | null {
  const m = /<EMailAddress>\s*([^<\s]+@[^<\s]+)\s*<\/EMailAddress>/i.exec(requestXml);
  return m ? m[1].replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => XML_ENTITIES[e]) : null;
}

/** Outlook's POX autodiscover answer (the 2006a "outlook" response schema) for one address. */
export function outlookAutodiscover(f: ClientConfigFacts, address: string): string {
  const protocol = (type: 'IMAP' | 'POP3' | 'SMTP', port: number) =>
    [
      '      <Protocol>',
      `        <Type>${type}</Type>`,
      `        <Server>${xml(f.mailHost)}</Server>`,
      `        <Port>${port}</Port>`,
      `        <LoginName>${xml(address)}</LoginName>`,
      '        <DomainRequired>off</DomainRequired>',
      '        <SPA>off</SPA>',
      '        <SSL>on</SSL>',
      '        <AuthRequired>on</AuthRequired>',
      ...(type === 'SMTP' ? ['        <UsePOPAuth>on</UsePOPAuth>', '        <SMTPLast>off</SMTPLast>'] : []),
      '      </Protocol>',
    ].join('\n');
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
    '  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">',
    '    <Account>',
    '      <AccountType>email</AccountType>',
    '      <Action>settings</Action>',
    ...[f.imap && protocol('IMAP', CLIENT_PORTS.imaps), f.pop3 && protocol('POP3', CLIENT_PORTS.pop3s), f.smtp && protocol('SMTP', CLIENT_PORTS.submissions)].filter(Boolean),
    '    </Account>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}

export type MtaStsMode = 'enforce' | 'testing' | 'none';

/** The MTA-STS policy file served at `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.2). */
export function mtaStsPolicy(mode: MtaStsMode, mx: string[], maxAgeSeconds: number): string {
  return ['version: STSv1', `mode: ${mode}`, ...mx.map((h) => `mx: ${h.toLowerCase().replace(/\.$/, '')}`), `max_age: ${maxAgeSeconds}`, ''].join('\r\n');
}

/** The hosted domain a request for `<label>.<domain>` names by its Host header (port and case ignored), or null. */
export function domainUnderLabel(host: string | undefined, label: string): string | null {
  const name = (host ?? '').trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  return name.startsWith(`${label}.`) && name.length > label.length + 1 ? name.slice(label.length + 1) : null;
}
