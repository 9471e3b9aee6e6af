/**
 * One outbound SMTP transaction to one remote host, on nodemailer's SMTPConnection: EHLO with our name,
 * STARTTLS (opportunistic, required, or required with a verified certificate), AUTH for a relay, then
 * MAIL/RCPT/DATA with the message streamed and the RFC 3461 DSN parameters passed on when the host has DSN.
 * The answer is per recipient: accepted, deferred (4xx, no answer) or failed (5xx), with what the TLS was.
 */
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { RemoteHost } from './mx-lookup';

export type TlsPolicy =
  /** STARTTLS when the server offers it; plaintext when it does not or the handshake fails. */
  | 'opportunistic'
  /** STARTTLS or no delivery (transport route with require_tls). */
  | 'required'
  /** STARTTLS with a certificate valid for the host name (trusted CA, name matches), or no delivery. */
  | 'verify'
  /** TLS from the first byte (port 465 relays). */
  | 'implicit';

export type RelayAuthMethod = 'PLAIN' | 'LOGIN' | 'CRAM-MD5';

export interface SessionOptions {
  /** EHLO name: the sender domain's HELO name or the node's host name. */
  heloName: string;
  host: RemoteHost;
  tls: TlsPolicy;
  /** Extra tls.connect options (a CA for tests); certificates are only required to verify with policy `verify` (RFC 7435 opportunistic TLS otherwise). */
  tlsOptions?: ConnectionOptions;
  auth?: { user: string; pass: string; method: RelayAuthMethod };
  connectTimeoutMs?: number;
  greetingTimeoutMs?: number;
  /** Idle time on the socket before the session is given up. */
  socketTimeoutMs?: number;
}

export interface OutboundEnvelope {
  /** '' for the null sender. */
  from: string;
  to: string[];
  size?: number;
  /** RFC 3461 parameters, sent only to a host that announces DSN. */
  dsn?: {
    ret?: 'FULL' | 'HDRS' | null;
    envid?: string | null;
    /** NOTIFY (`SUCCESS,FAILURE`) and ORCPT (`rfc822;a@b.example`) of each recipient that has them. */
    recipients?: ReadonlyMap<string, { notify?: string | null; orcpt?: string | null }>;
  };
}

export type RecipientOutcome = 'accepted' | 'deferred' | 'failed';

export interface RecipientResult {
  address: string;
  outcome: RecipientOutcome;
  /** SMTP reply code when the server answered. */
  code?: number;
  /** The server's reply, or what went wrong when there was none. */
  reply: string;
}

export interface TlsDetails {
  /** `TLSv1.3` */
  version: string | null;
  cipher: string | null;
  /** The certificate chains to a trusted CA and names the host. */
  verified: boolean;
  /** Why it did not verify (`SELF_SIGNED_CERT_IN_CHAIN`, `ERR_TLS_CERT_ALTNAME_INVALID`...). */
  verifyError: string | null;
}

export interface SessionResult {
  host: RemoteHost;
  /** The session ran encrypted. */
  tls: boolean;
  /** Version, cipher and certificate check of the encrypted session. */
  tlsDetails: TlsDetails | null;
  /** The host announced DSN (RFC 3461), so the DSN parameters went with the envelope and it reports from here on. */
  dsn: boolean;
  /**
   * The host never got as far as the envelope (no connection, bad greeting, EHLO, STARTTLS or AUTH failed):
   * the next host of the list should be tried.
   */
  hostFailed: boolean;
  recipients: RecipientResult[];
}

interface SmtpError extends Error {
  code?: string;
  /** The socket's own code under nodemailer's ESOCKET (`DEPTH_ZERO_SELF_SIGNED_CERT`...). */
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

const ENVELOPE_COMMANDS = new Set(['MAIL FROM', 'RCPT TO', 'DATA', 'API', 'DATA-END']);

function replyOf(e: SmtpError): string {
  return (e.response || e.message || String(e)).replace(/\s+/g, ' ').trim();
}

function outcomeOf(code: number | undefined): RecipientOutcome {
  return code && code >= 500 && code < 600 ? 'failed' : 'deferred';
}

/**
 * Runs one SMTPConnection step; a failure may come to the callback or only as an 'error' (or 'end') event
 * (connect reports failures only that way), so whichever comes first settles the step.
 */
function step<T>(conn: SMTPConnection, run: (done: (err?: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (e: Error) => finish(e);
    const onEnd = () => finish(Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' }));
    const finish = (err?: Error | null, value?: T) => {
      conn.removeListener('error', onError);
      conn.removeListener('end', onEnd);
      if (err) reject(err);
      else resolve(value as T);
    };
    conn.once('error', onError);
    conn.once('end', onEnd);
    run(finish);
  });
}

const connect = (conn: SMTPConnection) => step<void>(conn, (done) => conn.connect((err?: Error | null) => done(err)));

const login = (conn: SMTPConnection, auth: NonNullable<SessionOptions['auth']>) =>
  step<void>(conn, (done) => conn.login({ user: auth.user, pass: auth.pass, method: auth.method }, (err?: Error | null) => done(err)));

/** RFC 3461 §4 xtext: '+', '=' and anything outside printable ASCII as +HH. */
export function xtext(value: string): string {
  return Buffer.from(value, 'utf8').reduce((out, b) => out + (b >= 0x21 && b <= 0x7e && b !== 0x2b && b !== 0x3d ? String.fromCharCode(b) : `+${b.toString(16).toUpperCase().padStart(2, '0')}`), '');
}

type DsnCapableConnection = SMTPConnection & {
  _getDsnRcptToArgs?: () => string;
  _recipientQueue?: string[];
  _supportedExtensions?: string[];
};

/**
 * nodemailer gives every recipient the same NOTIFY and ORCPT; ours has its own. Its RCPT TO asks this method
 * for the parameters right after queueing the recipient, so the last queued one is the one being sent.
 */
function perRecipientDsn(conn: SMTPConnection, recipients: NonNullable<OutboundEnvelope['dsn']>['recipients']): void {
  const c = conn as DsnCapableConnection;
  if (!recipients?.size || typeof c._getDsnRcptToArgs !== 'function') return;
  c._getDsnRcptToArgs = () => {
    if (!c._supportedExtensions?.includes('DSN')) return '';
    const p = recipients.get(c._recipientQueue?.[c._recipientQueue.length - 1] ?? '');
    const args: string[] = [];
    if (p?.notify) args.push(`NOTIFY=${xtext(p.notify.toUpperCase())}`);
    if (p?.orcpt) args.push(`ORCPT=${xtext(p.orcpt.includes(';') ? p.orcpt : `rfc822;${p.orcpt}`)}`);
    return args.length ? ` ${args.join(' ')}` : '';
  };
}

const send = (conn: SMTPConnection, envelope: OutboundEnvelope, message: Readable) =>
  step<SMTPConnection.SentMessageInfo>(conn, (done) => {
    const dsn = envelope.dsn && (envelope.dsn.ret || envelope.dsn.envid || envelope.dsn.recipients?.size) ? { ret: envelope.dsn.ret ?? null, envid: envelope.dsn.envid ?? null } : undefined;
    perRecipientDsn(conn, envelope.dsn?.recipients);
    conn.send({ from: envelope.from, to: envelope.to, size: envelope.size, use8BitMime: true, dsn }, message, (err, info) => done(err, info));
  });

/** What the encrypted session is, read from the socket nodemailer upgraded. */
function tlsDetailsOf(conn: SMTPConnection): TlsDetails | null {
  const socket = conn._socket as TLSSocket | false | null;
  if (!conn.secure || !socket || typeof socket.getProtocol !== 'function') return null;
  const error = socket.authorizationError as unknown;
  return {
    version: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
    verified: socket.authorized === true,
    verifyError: socket.authorized ? null : error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : error ? String(error) : null,
  };
}

/** `TLSv1.3 TLS_AES_256_GCM_SHA384 verified` / `… unverified (SELF_SIGNED_CERT_IN_CHAIN)`, for logs. */
export function describeTls(t: TlsDetails | null): string {
  if (!t) return 'no TLS';
  return `${t.version ?? 'TLS'} ${t.cipher ?? ''} ${t.verified ? 'verified' : `unverified${t.verifyError ? ` (${t.verifyError})` : ''}`}`.replace(/\s+/g, ' ');
}

/** Sends one message to one host. Never throws for what the network or the server does; `message` is consumed or destroyed. */
export async function sendThroughHost(opts: SessionOptions, envelope: OutboundEnvelope, message: Readable): Promise<SessionResult> {
  const { host } = opts;
  const verify = opts.tls === 'verify';
  const conn = new SMTPConnection({
    host: host.address,
    port: host.port,
    servername: isIP(host.name) ? undefined : host.name,
    name: opts.heloName,
    secure: opts.tls === 'implicit',
    requireTLS: opts.tls === 'required' || verify,
    opportunisticTLS: opts.tls === 'opportunistic',
    // The certificate is checked against the MX host name (SNI), or the address a route names; not
    // verifying only ever sets socket.authorized to false, which the log reports.
    tls: { ...opts.tlsOptions, rejectUnauthorized: verify },
    connectionTimeout: opts.connectTimeoutMs ?? 30_000,
    greetingTimeout: opts.greetingTimeoutMs ?? 60_000,
    socketTimeout: opts.socketTimeoutMs ?? 300_000,
    socketCloseTimeout: 0,
    logger: false,
  });
  // Errors also arrive as events (after a callback already answered); they must never crash the node.
  conn.on('error', () => undefined);
  const all = (outcome: RecipientOutcome, reply: string, code?: number): RecipientResult[] => envelope.to.map((address) => ({ address, outcome, code, reply }));

  let stage: 'connect' | 'auth' | 'envelope' = 'connect';
  let tlsDetails: TlsDetails | null = null;
  try {
    await connect(conn);
    tlsDetails = tlsDetailsOf(conn);
    if (opts.auth) {
      stage = 'auth';
      await login(conn, opts.auth);
    }
    stage = 'envelope';
    const info = await send(conn, envelope, message);
    const dsn = (info.ehlo ?? []).some((l) => /^DSN\b/i.test(l));
    const results = new Map<string, RecipientResult>();
    const response = (info.response ?? '').toString().trim();
    const code = Number(/^\d{3}/.exec(response)?.[0]) || 250;
    for (const address of info.accepted ?? []) results.set(String(address), { address: String(address), outcome: 'accepted', code, reply: response });
    for (const e of (info.rejectedErrors ?? []) as SmtpError[]) {
      const address = String(e.recipient);
      results.set(address, { address, outcome: outcomeOf(e.responseCode), code: e.responseCode, reply: replyOf(e) });
    }
    conn.quit();
    return {
      host,
      tls: conn.secure,
      tlsDetails,
      dsn,
      hostFailed: false,
      recipients: envelope.to.map((a) => results.get(a) ?? { address: a, outcome: 'deferred', reply: `no answer for this recipient from ${host.name}` }),
    };
  } catch (raw) {
    const e = raw as SmtpError;
    message.destroy();
    const secure = conn.secure;
    // nodemailer is between STARTTLS and a finished handshake: the handshake (or the certificate check) failed.
    const inHandshake = (conn as SMTPConnection & { upgrading?: boolean }).upgrading === true;
    tlsDetails ??= tlsDetailsOf(conn);
    conn.close();
    const reply = replyOf(e);
    const tlsOf = { tls: secure, tlsDetails, dsn: false };
    if (stage !== 'envelope' || (e.command && !ENVELOPE_COMMANDS.has(e.command) && e.code !== 'EENVELOPE' && e.code !== 'EMESSAGE')) {
      // Nothing was decided about the recipients: this host is unusable now, another may do.
      const tlsFailed = e.command === 'STARTTLS' || e.code === 'ETLS' || inHandshake;
      const why =
        stage === 'auth' ? `authentication at ${host.name} failed: ${reply}`
        : tlsFailed && verify && !e.responseCode ? `TLS policy verify: the certificate of ${host.name} could not be verified: ${reply}${e.originalCode ? ` (${e.originalCode})` : ''}`
        : tlsFailed ? `TLS is required${verify ? ' (policy verify)' : ''} but STARTTLS with ${host.name} failed: ${reply}`
        : reply;
      return { host, ...tlsOf, hostFailed: true, recipients: all('deferred', why, e.responseCode) };
    }
    if (e.rejectedErrors?.length && e.code === 'EENVELOPE') {
      // Every recipient was refused; each has its own reply.
      const byAddress = new Map(e.rejectedErrors.map((r) => [String(r.recipient), r]));
      return {
        host,
        ...tlsOf,
        hostFailed: false,
        recipients: envelope.to.map((address) => {
          const r = byAddress.get(address);
          return r ? { address, outcome: outcomeOf(r.responseCode), code: r.responseCode, reply: replyOf(r) } : { address, outcome: outcomeOf(e.responseCode), code: e.responseCode, reply };
        }),
      };
    }
    // MAIL FROM or DATA refused, or the connection dropped mid-transaction: the same answer for everyone.
    return { host, ...tlsOf, hostFailed: false, recipients: all(outcomeOf(e.responseCode), reply, e.responseCode) };
  }
}

/**
 * Tries the hosts in order until one takes part in the transaction (RFC 5321 §5.1): a host that cannot be
 * reached or refuses the session hands over to the next; a host that answered the envelope decides.
 * `openMessage` is called once per host tried.
 */
export async function sendThroughHosts(
  hosts: RemoteHost[],
  opts: Omit<SessionOptions, 'host'>,
  envelope: OutboundEnvelope,
  openMessage: () => Promise<Readable>,
): Promise<{ result: SessionResult; tried: SessionResult[] }> {
  if (hosts.length === 0) throw new Error('sendThroughHosts needs at least one host');
  const tried: SessionResult[] = [];
  for (const host of hosts) {
    const message = await openMessage();
    const result = await sendThroughHost({ ...opts, host }, envelope, message);
    tried.push(result);
    if (!result.hostFailed) return { result, tried };
  }
  return { result: tried[tried.length - 1], tried };
}
