/**
 * The three inbound listeners on smtp-server: inbound MX (no AUTH), submission (STARTTLS, then AUTH
 * PLAIN/LOGIN) and implicit-TLS submission. Every command runs the policy pipeline (pipeline.ts); DATA
 * is scanned as it streams into the SpoolWriter, the spooled copy goes past the virus and spam scanners
 * (content/screen-message.ts) before anything is committed, and 250 is answered only once the spool is committed.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection';
import { addressKey } from '@dizi/domain/lookup-key';
import type { ContentScanner, SpooledContent } from './content/content-scanner';
import { authservId, MessageAuthenticator, MessageAuthReport } from './content/message-auth';
import { DiscardedMessage, screenMessage } from './content/screen-message';
import { CommandParser, limitCommandLines } from './command-line-limit';
import { installFastDataFeed } from './data/fast-data-feed';
import { HeaderFilter } from './data/header-filter';
import { MessageScanner, tooBig } from './data/message-scanner';
import { receivedHeader } from './data/received-header';
import { cachingReverseResolver } from './reverse-dns-cache';
import {
  AUTH_CHECKS, AuthInput, CONNECT_CHECKS, MAIL_CHECKS, PolicyDeps, RCPT_CHECKS, RcptInput, runStage,
} from './pipeline';
import type { GreetingPassList, InboundLogger, RecipientResolution, SessionLog, SettingsProvider, SpoolReceipt, SpoolWriter } from './ports';
import { InboundSession, ListenerKind, newSession } from './session';
import { defer, isRefusal, Refusal, replyText, SmtpReplyError, Verdict } from './verdict';

// smtp-server's DATA feed scans byte by byte in JavaScript; same behaviour, native search (see fast-data-feed.ts).
installFastDataFeed();

export interface InboundServerOptions {
  kind: ListenerKind;
  /** Our host name: greeting, EHLO reply and Received header. */
  hostname: string;
  tls: { key: Buffer; cert: Buffer };
  settings: SettingsProvider;
  deps: Omit<PolicyDeps, 'hostname'>;
  spool: SpoolWriter;
  sessionLog: SessionLog;
  logger: InboundLogger;
  /** DATA must keep the minimum rate from this long after it starts (default 10 s), so a slow first packet is not punished. */
  dataRateGraceMs?: number;
  /** How often DATA rate and session deadline are checked (default 1 s). */
  watchIntervalMs?: number;
  now?: () => number;
  /** Virus and spam scanning before the final reply to DATA (used when the settings turn it on). */
  contentScanner?: ContentScanner;
  /** Addresses that waited for the greeting before; without it every MX client waits (greetingDelayMs). */
  greetingPass?: GreetingPassList;
  /** SPF/DKIM/DMARC/ARC of MX mail before the final reply to DATA (when the settings turn it on; on by default). */
  messageAuth?: MessageAuthenticator;
}

export interface InboundServer {
  kind: ListenerKind;
  server: SMTPServer;
  /** Resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets sessions finish (smtp-server's close timeout), then resolves. */
  close(): Promise<void>;
  /** Ends every session signed in as this mailbox (suspended, password reset) with 421; a DATA in progress is dropped uncommitted. */
  endSessionsOf(mailboxId: string): number;
}

/** smtp-server internals we adjust per connection; all of them are public in its type declarations. */
type Connection = SMTPConnection & {
  send(code: number, data?: string | string[] | null, context?: string | false): void;
  init(): void;
  connectionReady(): void;
  _setListeners(callback: () => void): void;
  _onCommand(command: Buffer, callback?: () => void): void;
  _createParser(): CommandParser;
  _isSupported(command: string): boolean;
  _parser: CommandParser | false;
  _ready: boolean;
  _upgrading: boolean;
  _nextHandler: unknown;
  _closing: boolean;
  _closed: boolean;
  remoteAddress: string;
  _sendGreeting(): void;
  handler_VRFY(command: Buffer, callback: () => void): void;
  handler_ETRN?: (command: Buffer, callback: () => void) => void;
  close(): void;
  secure: boolean;
  id: string;
};

const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;
/**
 * Commands that move no mail (Postfix's junk commands, with HELP and EXPN). Bad commands count too: every reply
 * 500-504 (unknown command, over-long line, syntax error, bad sequence).
 */
const JUNK_COMMANDS = new Set(['NOOP', 'RSET', 'VRFY', 'EXPN', 'HELP', 'ETRN']);
const LOCAL_ERROR: Refusal = defer(451, '4.3.0', 'Local error in processing, try again later');

export function createInboundServer(o: InboundServerOptions): InboundServer {
  const now = o.now ?? Date.now;
  const deps: PolicyDeps = { ...o.deps, hostname: o.hostname };
  const sessions = new Map<string, InboundSession>();
  const connections = new Map<string, Connection>();
  const timers = new Map<string, NodeJS.Timeout>();
  /** Aborts the DATA in progress of a session (its connection went away): nothing half-written is committed. */
  const dataInProgress = new Map<string, () => void>();
  /** Junk commands per connection (junkCommandLimit); an accepted message starts the count again. */
  const junkCounts = new Map<string, number>();
  const submission = o.kind !== 'mx';
  const initial = o.settings.smtp;

  class InboundSmtpServer extends SMTPServer {
    override connect(socket: Socket | TLSSocket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
      // smtp-server's connect() with one step between creating the connection and starting it: the adjustments,
      // so that the greeting follows our policy instead of its fixed 100 ms delay.
      const conn = new SMTPConnection(this, socket, socketOptions) as Connection;
      this.connections.add(conn);
      conn.on('error', (err: Error) => this._onError(err));
      conn.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
      adjustConnection(conn);
      conn.init();
    }
  }

  /** Our replies carry their own enhanced code; the greeting and VRFY/ETRN follow the settings; AUTH is not offered before TLS. */
  function adjustConnection(conn: Connection): void {
    connections.set(conn.id, conn);
    /** The client was made to wait for the greeting and is remembered as passed once it speaks after it. */
    let waited = false;
    const junkCommand = (): boolean => {
      const junk = (junkCounts.get(conn.id) ?? 0) + 1;
      junkCounts.set(conn.id, junk);
      if (junk <= o.settings.smtp.junkCommandLimit) return false;
      const st = sessions.get(conn.id);
      if (st) st.lastRefusal = 'too many junk commands';
      send(421, `4.7.0 ${o.hostname} Error: too many junk commands, closing connection`, false);
      return true;
    };
    conn.init = () =>
      conn._setListeners(() => {
        const wait = submission ? 0 : o.settings.smtp.greetingDelayMs;
        if (wait === 0) return conn.connectionReady();
        const ready = (passed: boolean) => {
          if (conn._closing || conn._closed) return;
          if (passed) return conn.connectionReady();
          waited = true;
          // A client that talks before the greeting is answered 421 by smtp-server (_ready is still false).
          setTimeout(() => conn.connectionReady(), wait).unref();
        };
        if (!o.greetingPass) return ready(false);
        o.greetingPass.passed(conn.remoteAddress).then(ready, (err: unknown) => {
          o.logger.warn({ err: String(err) }, 'greeting pass list unavailable');
          ready(false);
        });
      });
    const onCommand = conn._onCommand.bind(conn);
    conn._onCommand = (command, callback) => {
      if (conn._ready && !conn._upgrading && !conn._nextHandler) {
        if (waited) {
          waited = false;
          const ttl = o.settings.smtp.greetingPassTtlSeconds;
          if (ttl > 0 && o.greetingPass) o.greetingPass.remember(conn.remoteAddress, ttl).catch((err: unknown) => o.logger.warn({ err: String(err) }, 'greeting pass not remembered'));
        }
        const space = command.indexOf(0x20);
        const name = command.toString('latin1', 0, space < 0 ? Math.min(command.length, 16) : Math.min(space, 16)).toUpperCase();
        if (JUNK_COMMANDS.has(name) && junkCommand()) return;
      }
      return onCommand(command, callback);
    };
    const limitLines = (parser: CommandParser) =>
      limitCommandLines(parser, {
        maxBytes: () => o.settings.smtp.maxCommandLineBytes,
        onTooLong: () => conn.send(500, '5.5.2 Error: line too long', false),
      });
    if (conn._parser) limitLines(conn._parser);
    // STARTTLS gives the connection a new parser.
    const createParser = conn._createParser.bind(conn);
    conn._createParser = () => {
      const parser = createParser();
      limitLines(parser);
      return parser;
    };
    const send = conn.send.bind(conn);
    conn.send = (code, data, context) => {
      if (typeof data === 'string' && ENHANCED_PREFIX.test(data)) send(code, data, false);
      else {
        if (submission && code === 250 && Array.isArray(data) && !conn.secure) data = data.filter((l) => !l.startsWith('AUTH '));
        send(code, data, context);
      }
      // A bad command was answered: it counts as junk, and past the limit the session ends after that reply.
      if (code >= 500 && code <= 504 && conn._ready) junkCommand();
    };
    conn._sendGreeting = () => send(220, `${o.hostname} ${o.settings.smtp.greeting}`, false);
    conn.handler_VRFY = (_command, callback) => {
      // Even when enabled, VRFY reveals nothing (RFC 5321 §3.5.3 allows 252).
      if (o.settings.smtp.allowVrfy) send(252, '2.1.5 Cannot VRFY user, but will accept message and attempt delivery', false);
      else send(502, '5.5.1 VRFY command is disabled', false);
      callback();
    };
    conn.handler_ETRN = (_command, callback) => {
      // The outbound queue runs on its own schedule; ETRN is advisory (RFC 1985).
      if (o.settings.smtp.allowEtrn) send(250, '2.0.0 Queuing started', false);
      else send(502, '5.5.1 ETRN command is disabled', false);
      callback();
    };
  }

  const server = new InboundSmtpServer({
    name: o.hostname,
    // Our name only: smtp-server's default echoes the client's reverse-DNS name after ours.
    heloResponse: '%s',
    // One PTR lookup per client address a minute, not one per connection.
    resolver: cachingReverseResolver(),
    secure: o.kind === 'submissions',
    key: o.tls.key,
    cert: o.tls.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !submission,
    disabledCommands: submission ? [] : ['AUTH'],
    allowInsecureAuth: false,
    // Both are off by default in smtp-server: RFC 2034 codes on every reply, RFC 3461 DSN parameters kept for bounces.
    hideENHANCEDSTATUSCODES: false,
    hideDSN: false,
    size: initial.maxMessageBytes,
    socketTimeout: initial.connectionTimeoutSeconds * 1000,
    closeTimeout: 30_000,
    logger: false,
    onConnect: (session, cb) => void onConnect(session).then(() => cb(), cb),
    onAuth: (auth, session, cb) => void onAuth(auth, session).then((user) => cb(null, { user }), cb),
    onMailFrom: (address, session, cb) => void onMailFrom(address, session).then(() => cb(), cb),
    onRcptTo: (address, session, cb) => void onRcptTo(address, session).then(() => cb(), cb),
    onData: (stream, session, cb) => void onData(stream, session, cb),
    onClose: (session) => void onClose(session),
  });
  // A failed TLS handshake or a reset socket is reported here; without a listener it would crash the process.
  server.on('error', (err: Error & { code?: string }) => o.logger.warn({ err: err.message, code: err.code, listener: o.kind }, 'SMTP connection error'));

  function stateOf(session: SMTPServerSession): InboundSession {
    const st = sessions.get(session.id);
    if (!st) throw refusalError(LOCAL_ERROR);
    return st;
  }

  function refusalError(r: Refusal): SmtpReplyError {
    return new SmtpReplyError(r);
  }

  /** Replies a refusal (after its delay); 4xx/5xx from ports' failures become 451 / 421. */
  async function refuse(st: InboundSession | undefined, v: Verdict, stage: string): Promise<never> {
    const r = isRefusal(v) ? v : LOCAL_ERROR;
    if (st) st.lastRefusal = `${stage}: ${replyText(r)}`;
    if (r.delayMs) await sleep(r.delayMs);
    throw refusalError(r);
  }

  function portFailure(st: InboundSession | undefined, stage: string, err: unknown): Promise<never> {
    if (err instanceof SmtpReplyError) throw err;
    o.logger.error({ err: String(err), stage, session: st?.id, listener: o.kind }, 'inbound policy check failed');
    return refuse(st, stage === 'connect' ? defer(421, '4.3.0', 'Service temporarily unavailable, try again later') : LOCAL_ERROR, stage);
  }

  async function onConnect(session: SMTPServerSession): Promise<void> {
    const settings = o.settings.smtp;
    // Read per connection by smtp-server: the SIZE in EHLO and the idle timeout follow settings without restart.
    server.options.size = settings.maxMessageBytes;
    server.options.socketTimeout = settings.connectionTimeoutSeconds * 1000;
    const st = newSession(session.id, o.kind, session.remoteAddress, session.clientHostname, now());
    sessions.set(session.id, st);
    watch(st);
    let v: Verdict;
    try {
      v = await runStage(CONNECT_CHECKS, { session: st, settings, deps });
    } catch (err) {
      return portFailure(st, 'connect', err);
    }
    if (isRefusal(v)) return refuse(st, v, 'connect');
  }

  async function onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession) {
    const st = stateOf(session);
    const input: AuthInput = {
      session: st,
      settings: o.settings.smtp,
      deps,
      username: auth.username ?? '',
      password: auth.password ?? '',
      authzid: auth.method === 'PLAIN' ? (auth.authzid ?? '') : '',
    };
    let v: Verdict;
    try {
      v = await runStage(AUTH_CHECKS, input);
    } catch (err) {
      return portFailure(st, 'auth', err);
    }
    if (isRefusal(v) || !input.user) return refuse(st, v, 'auth');
    st.user = input.user;
    o.logger.info({ session: st.id, user: st.user.address, ip: st.clientIp }, 'SMTP AUTH succeeded');
    return input.user;
  }

  async function onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const st = stateOf(session);
    st.helo = session.hostNameAppearsAs || '';
    st.transaction = null;
    const sender = address.address ? addressKey(address.address) : '';
    const size = address.args ? Number(address.args.SIZE) : NaN;
    const declaredSize = Number.isFinite(size) && size >= 0 ? size : null;
    let v: Verdict;
    try {
      v = await runStage(MAIL_CHECKS, { session: st, settings: o.settings.smtp, deps, sender, declaredSize });
    } catch (err) {
      return portFailure(st, 'mail', err);
    }
    if (isRefusal(v)) return refuse(st, v, `MAIL FROM:<${sender}>`);
    st.transaction = { mailFrom: sender, declaredSize, recipients: [], refused: [] };
  }

  async function onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const st = stateOf(session);
    const tx = st.transaction;
    if (!tx) return refuse(st, defer(451, '4.3.0', 'Send MAIL FROM again'), 'rcpt');
    const recipient = addressKey(address.address);
    let resolved: Promise<RecipientResolution> | undefined;
    const resolution = () => (resolved ??= deps.directory.resolveRecipient(recipient));
    let v: Verdict;
    try {
      // A check may put another address in (srs-bounce: the original sender of a bounce to an SRS address).
      const input: RcptInput = { session: st, settings: o.settings.smtp, deps, recipient, declaredSize: tx.declaredSize, resolution };
      v = await runStage(RCPT_CHECKS, input);
      if (!isRefusal(v) && !tx.recipients.some((r) => r.address === input.recipient)) {
        const r = await input.resolution();
        tx.recipients.push({
          address: input.recipient,
          kind: r.kind === 'remote' ? 'remote' : 'local',
          domain: r.domain,
          tenantId: r.kind === 'local' ? r.tenantId : null,
          dsnNotify: address.dsn?.notify?.length ? address.dsn.notify.join(',') : null,
          originalAddress: address.dsn?.orcpt ?? (input.reversedFrom ? `rfc822;${input.reversedFrom}` : null),
        });
      }
    } catch (err) {
      return portFailure(st, 'rcpt', err);
    }
    if (isRefusal(v)) {
      tx.refused.push(`${recipient}: ${replyText(v)}`);
      return refuse(st, v, `RCPT TO:<${recipient}>`);
    }
  }

  function onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
    const st = sessions.get(session.id);
    const tx = st?.transaction;
    if (!st || !tx || tx.recipients.length === 0) {
      stream.resume();
      stream.once('end', () => cb(refusalError(defer(451, '4.3.0', 'No valid recipients, send MAIL FROM again'))));
      return;
    }
    const settings = o.settings.smtp;
    const id = randomUUID();
    const secure = session.secure;
    // RFC 3848 protocol names.
    const protocol = session.openingCommand === 'HELO' ? 'SMTP' : `ESMTP${secure ? 'S' : ''}${st.user ? 'A' : ''}`;
    const header = Buffer.from(
      receivedHeader({
        helo: st.helo,
        clientHostname: session.clientHostname,
        clientIp: st.clientIp,
        host: o.hostname,
        protocol,
        id,
        recipient: tx.recipients.length === 1 ? tx.recipients[0].address : null,
        date: new Date(now()),
      }),
      'latin1',
    );
    const scanner = new MessageScanner({ maxBytes: settings.maxMessageBytes, maxHops: settings.maxHops });
    const ourId = authservId(o.hostname);
    const headerFilter = new HeaderFilter({ authservId: ourId });
    // MX mail is authenticated as it streams in, from the bytes the client sent (before the header filter).
    const authStream = !submission && settings.mailAuthEnabled && o.messageAuth ? new PassThrough() : null;
    authStream?.on('error', () => undefined);
    const authenticating: Promise<MessageAuthReport> | null = authStream && o.messageAuth
      ? o.messageAuth.check({
          message: authStream, clientIp: st.clientIp, helo: st.helo, mailFrom: tx.mailFrom, authservId: ourId,
          timeoutMs: settings.mailAuthTimeoutSeconds * 1000, dnsTimeoutMs: settings.dnsQueryTimeoutMs, dnsCacheMs: settings.dnsCacheSeconds * 1000,
        })
      : null;
    // Once the checks are done (or gave up early), nobody reads the copy any more: let it flow away, never stall DATA.
    void authenticating?.finally(() => {
      if (authStream && !authStream.destroyed) authStream.resume();
    });
    const content = new PassThrough();
    // We destroy it on purpose when refusing; the spool writer sees the error, nobody else needs to.
    content.on('error', () => undefined);
    content.write(header);
    let failed: Refusal | null = null;
    const startedAt = now();
    const graceMs = o.dataRateGraceMs ?? 10_000;

    /** The content filter's findings, for the session log. */
    let screened = '';
    const contentScanner = o.contentScanner;
    // Runs inside the spool writer, between the fsync of the content and the commit (settings read now, not at DATA).
    const screen = async (message: SpooledContent) => {
      const header = { from: headerFilter.from, fromTruncated: headerFilter.fromTruncated };
      const outcome = await screenMessage({ scanner: contentScanner, session: st, settings: o.settings.smtp, deps, message, header, auth: authenticating });
      if (!outcome) return null;
      screened = `content: ${outcome.log}`;
      if (outcome.kind === 'refuse') throw new SmtpReplyError(outcome.refusal);
      if (outcome.kind === 'discard') throw new DiscardedMessage(outcome.signature);
      return outcome.marks;
    };
    const spooling: Promise<SpoolReceipt> = o.spool.spool(
      {
        id,
        source: submission ? 'submission' : 'smtp',
        sessionId: st.id,
        clientIp: st.clientIp,
        helo: st.helo,
        mailFrom: tx.mailFrom,
        authMailboxId: st.user?.mailboxId ?? null,
        recipients: tx.recipients,
        maxBytes: settings.maxMessageBytes + header.length,
        envId: session.envelope.dsn?.envid ?? null,
        dsnRet: session.envelope.dsn?.ret === 'FULL' || session.envelope.dsn?.ret === 'HDRS' ? session.envelope.dsn.ret : null,
        screen,
      },
      content,
    );
    const fail = (r: Refusal) => {
      if (failed) return;
      failed = r;
      content.destroy(new SmtpReplyError(r));
      authStream?.destroy();
      // Keep reading to the end of DATA, so the refusal can be answered in order.
      stream.resume();
    };
    // A spool that fails while DATA still streams (disk, database) stops reading: refuse and drain instead of stalling.
    spooling.catch((err: unknown) => {
      if (!failed && !(err instanceof DiscardedMessage)) fail(spoolRefusal(err, settings.maxMessageBytes));
    });

    const rateWatch = setInterval(() => {
      const elapsed = now() - startedAt;
      if (failed || elapsed < graceMs || settings.minDataRateBytesPerSecond === 0) return;
      if ((scanner.bytesIn * 1000) / elapsed < settings.minDataRateBytesPerSecond) {
        clearInterval(rateWatch);
        fail(defer(421, '4.4.2', 'Data rate too low, closing connection'));
        endSession(st, defer(421, '4.4.2', `Data rate below ${settings.minDataRateBytesPerSecond} bytes per second, closing connection`));
      }
    }, o.watchIntervalMs ?? 1000);
    rateWatch.unref();

    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      const r = scanner.feed(chunk);
      if (!r.ok) return fail(r.refusal);
      // Each consumer may ask us to wait; reading goes on when every one that asked has drained.
      let waiting = 0;
      const drained = () => {
        if (--waiting === 0 && !failed) stream.resume();
      };
      if (authStream && !authStream.destroyed && !authStream.write(r.output)) {
        waiting++;
        // A reader that stops early destroys it (close) instead of draining it.
        const once = () => {
          authStream.off('drain', once).off('close', once);
          drained();
        };
        authStream.on('drain', once).on('close', once);
      }
      if (!content.write(headerFilter.feed(r.output))) {
        waiting++;
        content.once('drain', drained);
      }
      if (waiting > 0) stream.pause();
    });
    dataInProgress.set(st.id, () => {
      clearInterval(rateWatch);
      fail(defer(421, '4.4.2', 'Connection closed during DATA'));
    });
    stream.once('end', () => {
      dataInProgress.delete(st.id);
      clearInterval(rateWatch);
      void (async () => {
        if (!failed) {
          const r = scanner.end();
          if (!r.ok) fail(r.refusal);
          else {
            if (authStream && !authStream.destroyed) authStream.end();
            content.end(headerFilter.end());
          }
        }
        let receipt: SpoolReceipt | null = null;
        let refusal: Refusal | null = failed;
        let discarded: DiscardedMessage | null = null;
        try {
          receipt = await spooling;
        } catch (err) {
          if (err instanceof DiscardedMessage && !refusal) discarded = err;
          else refusal ??= spoolRefusal(err, settings.maxMessageBytes);
        }
        const size = scanner.bytesOut + header.length;
        const base = {
          sessionId: st.id, clientIp: st.clientIp, helo: st.helo, mailFrom: tx.mailFrom,
          recipients: tx.recipients.map((r) => r.address), size,
        };
        const tenantId = st.user?.tenantId ?? tx.recipients.find((r) => r.tenantId)?.tenantId ?? null;
        st.logged = true;
        st.transaction = null;
        if (discarded) {
          // The operators chose to drop infected mail: the sender is told it was taken, nothing is kept.
          o.sessionLog.record({ ...base, level: 'warn', result: 'discarded', reason: [screened, ...tx.refused].filter(Boolean).join('; '), messageId: null, tenantId });
          return cb(null, `2.7.0 Ok: discarded, virus found (${discarded.signature})`);
        }
        if (refusal || !receipt) {
          const r = refusal ?? LOCAL_ERROR;
          st.lastRefusal = `DATA: ${replyText(r)}`;
          o.sessionLog.record({ ...base, level: 'warn', result: 'rejected', reason: [replyText(r), screened, ...tx.refused].filter(Boolean).join('; '), messageId: null, tenantId });
          return cb(refusalError(r));
        }
        o.sessionLog.record({ ...base, size: receipt.size, level: 'info', result: 'accepted', reason: [screened, ...tx.refused].filter(Boolean).join('; '), messageId: receipt.id, tenantId });
        junkCounts.delete(st.id);
        // Committed: answer 250 first, then hand it to the queues (the sweeper covers a failed enqueue).
        cb(null, `Ok: queued as ${receipt.id}`);
        await receipt.enqueue();
      })();
    });
  }

  function spoolRefusal(err: unknown, maxBytes: number): Refusal {
    if (err instanceof SmtpReplyError) return err.refusal;
    if ((err as { smtpCode?: number }).smtpCode === 552) return tooBig(maxBytes);
    o.logger.error({ err: String(err) }, 'spooling failed');
    return LOCAL_ERROR;
  }

  /** Ends a session from our side (deadline, data rate): 421 then close. */
  function endSession(st: InboundSession, r: Refusal): void {
    st.lastRefusal = replyText(r);
    const conn = connections.get(st.id);
    if (!conn) return;
    conn.send(r.code, `${r.enhanced} ${r.text}`);
    conn.close();
  }

  /** The total session deadline; smtp-server's own idle timeout restarts with every byte. */
  function watch(st: InboundSession): void {
    const deadlineMs = o.settings.smtp.sessionDeadlineSeconds * 1000;
    const timer = setTimeout(() => endSession(st, defer(421, '4.4.2', 'Session time limit reached, closing connection')), deadlineMs);
    timer.unref();
    timers.set(st.id, timer);
  }

  async function onClose(session: SMTPServerSession): Promise<void> {
    const st = sessions.get(session.id);
    sessions.delete(session.id);
    connections.delete(session.id);
    junkCounts.delete(session.id);
    clearTimeout(timers.get(session.id));
    timers.delete(session.id);
    dataInProgress.get(session.id)?.();
    dataInProgress.delete(session.id);
    if (!st) return;
    if (st.release) await st.release().catch((err) => o.logger.warn({ err: String(err) }, 'connection slot release failed'));
    const tx = st.transaction;
    if (tx || !st.logged) {
      o.sessionLog.record({
        level: st.lastRefusal ? 'warn' : 'info',
        sessionId: st.id,
        clientIp: st.clientIp,
        helo: st.helo || session.hostNameAppearsAs || null,
        mailFrom: tx?.mailFrom ?? null,
        recipients: tx?.recipients.map((r) => r.address) ?? [],
        size: null,
        result: tx ? 'abandoned' : st.lastRefusal ? 'refused' : 'closed',
        reason: tx?.refused.length ? tx.refused.join('; ') : (st.lastRefusal ?? ''),
        messageId: null,
        tenantId: st.user?.tenantId ?? null,
      });
    }
  }

  return {
    kind: o.kind,
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.server.once('error', onError);
        server.listen(port, host, () => {
          server.server.removeListener('error', onError);
          const addr = server.server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    close() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
    endSessionsOf(mailboxId) {
      let ended = 0;
      for (const st of sessions.values()) {
        if (st.user?.mailboxId !== mailboxId) continue;
        endSession(st, defer(421, '4.7.0', 'Your access has ended (mailbox suspended or password changed); closing connection'));
        ended++;
      }
      return ended;
    },
  };
}
