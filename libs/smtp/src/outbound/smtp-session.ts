/**
 * One outbound SMTP transaction to one remote host, on nodemailer's SMTPConnection: EHLO with our name,
 * STARTTLS (opportunistic, or required), AUTH for a relay, then MAIL/RCPT/DATA with the message streamed.
 * The answer is per recipient: accepted, deferred (4xx, no answer) or failed (5xx).
 */
import type { ConnectionOptions } from 'node:tls';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { RemoteHost } from './mx-lookup';

export type TlsPolicy =
  /** STARTTLS when the server offers it; plaintext when it does not or the handshake fails. */
  | 'opportunistic'
  /** STARTTLS or no delivery (transport route with require_tls). */
  | 'required'
  /** TLS from the first byte (port 465 relays). */
  | 'implicit';

export type RelayAuthMethod = 'PLAIN' | 'LOGIN' | 'CRAM-MD5';

export interface SessionOptions {
  /** EHLO name: the sender domain's HELO name or the node's host name. */
  heloName: string;
  host: RemoteHost;
  tls: TlsPolicy;
  /** Extra tls.connect options; MX hosts' certificates are not verified unless a CA is given (RFC 7435 opportunistic TLS). */
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

export interface SessionResult {
  host: RemoteHost;
  /** The session ran encrypted. */
  tls: boolean;
  /**
   * The host never got as far as the envelope (no connection, bad greeting, EHLO, STARTTLS or AUTH failed):
   * the next host of the list should be tried.
   */
  hostFailed: boolean;
  recipients: RecipientResult[];
}

interface SmtpError extends Error {
  code?: string;
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

const send = (conn: SMTPConnection, envelope: OutboundEnvelope, message: Readable) =>
  step<SMTPConnection.SentMessageInfo>(conn, (done) =>
    conn.send({ from: envelope.from, to: envelope.to, size: envelope.size, use8BitMime: true }, message, (err, info) => done(err, info)),
  );

/** Sends one message to one host. Never throws for what the network or the server does; `message` is consumed or destroyed. */
export async function sendThroughHost(opts: SessionOptions, envelope: OutboundEnvelope, message: Readable): Promise<SessionResult> {
  const { host } = opts;
  const conn = new SMTPConnection({
    host: host.address,
    port: host.port,
    servername: isIP(host.name) ? undefined : host.name,
    name: opts.heloName,
    secure: opts.tls === 'implicit',
    requireTLS: opts.tls === 'required',
    opportunisticTLS: opts.tls === 'opportunistic',
    tls: { rejectUnauthorized: false, ...opts.tlsOptions },
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
  try {
    await connect(conn);
    if (opts.auth) {
      stage = 'auth';
      await login(conn, opts.auth);
    }
    stage = 'envelope';
    const info = await send(conn, envelope, message);
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
      hostFailed: false,
      recipients: envelope.to.map((a) => results.get(a) ?? { address: a, outcome: 'deferred', reply: `no answer for this recipient from ${host.name}` }),
    };
  } catch (raw) {
    const e = raw as SmtpError;
    message.destroy();
    const secure = conn.secure;
    conn.close();
    const reply = replyOf(e);
    if (stage !== 'envelope' || (e.command && !ENVELOPE_COMMANDS.has(e.command) && e.code !== 'EENVELOPE' && e.code !== 'EMESSAGE')) {
      // Nothing was decided about the recipients: this host is unusable now, another may do.
      const why =
        stage === 'auth' ? `authentication at ${host.name} failed: ${reply}`
        : e.command === 'STARTTLS' || e.code === 'ETLS' ? `TLS is required but STARTTLS with ${host.name} failed: ${reply}`
        : reply;
      return { host, tls: secure, hostFailed: true, recipients: all('deferred', why, e.responseCode) };
    }
    if (e.rejectedErrors?.length && e.code === 'EENVELOPE') {
      // Every recipient was refused; each has its own reply.
      const byAddress = new Map(e.rejectedErrors.map((r) => [String(r.recipient), r]));
      return {
        host,
        tls: secure,
        hostFailed: false,
        recipients: envelope.to.map((address) => {
          const r = byAddress.get(address);
          return r ? { address, outcome: outcomeOf(r.responseCode), code: r.responseCode, reply: replyOf(r) } : { address, outcome: outcomeOf(e.responseCode), code: e.responseCode, reply };
        }),
      };
    }
    // MAIL FROM or DATA refused, or the connection dropped mid-transaction: the same answer for everyone.
    return { host, tls: secure, hostFailed: false, recipients: all(outcomeOf(e.responseCode), reply, e.responseCode) };
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
