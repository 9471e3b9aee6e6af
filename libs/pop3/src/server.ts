/**
 * POP3 server factory: one Session per socket, plain (STLS; no credentials before it) or implicit TLS.
 * Storage, logins and the mailbox lock arrive as ports, so the same server runs on the memory store in tests.
 */
import net, { type Socket } from 'node:net';
import tls, { type SecureContextOptions } from 'node:tls';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { Authenticator } from './authenticator';
import { ALL_COMMANDS } from './commands/all-commands';
import { refusalLine, type AdmitConnection, type ConnectionAdmission } from './connection-admission';
import { CommandRegistry, dispatch } from './dispatcher';
import type { MailboxLock } from './mailbox-lock';
import { Session, type SessionServices } from './session';
import { DEFAULT_POP3_SETTINGS, type Pop3Settings } from './settings';

export interface Pop3ServerOptions {
  store: MessageStore;
  authenticator: Authenticator;
  lock: MailboxLock;
  settings?: Partial<Pop3Settings>;
  /** Key and certificate: enables STLS on the plain port, and `implicitTls` uses them from the first byte. */
  tls?: SecureContextOptions;
  implicitTls?: boolean;
  /** Per-IP connection limits, asked before the greeting; without it every connection is admitted. */
  admitConnection?: AdmitConnection;
  onError?: (err: unknown) => void;
}

const ADMITTED: ConnectionAdmission = { admitted: true, release: () => undefined };

export interface Pop3Server {
  server: net.Server;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  sessions(): number;
  /** Ends every session signed in as this mailbox (suspended, password reset), without the UPDATE state: nothing it marked is deleted. */
  endSessionsOf(mailboxId: string): number;
}

export function createPop3Server(options: Pop3ServerOptions): Pop3Server {
  const settings: Pop3Settings = { ...DEFAULT_POP3_SETTINGS, ...options.settings };
  const registry = new CommandRegistry(ALL_COMMANDS);
  const secureContext = options.tls ? tls.createSecureContext(options.tls) : null;
  const live = new Set<Socket>();
  const open = new Set<Session>();
  const running = new Set<Promise<void>>();
  const services: SessionServices = {
    store: options.store,
    authenticator: options.authenticator,
    lock: options.lock,
    settings,
    startTls: secureContext && !options.implicitTls
      ? (socket) =>
          new Promise<Socket>((resolve, reject) => {
            const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
            secure.once('secure', () => resolve(secure));
            secure.once('error', reject);
          })
      : undefined,
  };
  const onError = options.onError ?? (() => undefined);

  const handle = (socket: Socket, secure: boolean) => {
    // Every reply is one write (multi-line ones corked): nothing gains from Nagle's algorithm but its delays.
    socket.setNoDelay(true);
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    socket.on('error', () => undefined);
    const admission = options.admitConnection ? options.admitConnection(socket.remoteAddress ?? '') : Promise.resolve(ADMITTED);
    admission.then(
      (verdict) => {
        if (!verdict.admitted) {
          socket.end(refusalLine(verdict.reason));
          setTimeout(() => socket.destroy(), 2000).unref();
        } else if (socket.destroyed) verdict.release();
        else start(socket, secure, verdict.release);
      },
      (err: unknown) => {
        onError(err);
        socket.destroy();
      },
    );
  };

  const start = (socket: Socket, secure: boolean, release: () => void) => {
    const session = new Session(socket, services, secure);
    open.add(session);
    const run = runSession(session, registry).catch(onError).finally(() => {
      open.delete(session);
      release();
      running.delete(run);
      // end() lets the last answer (and TLS close_notify) go out; a peer that never reads is cut off shortly after.
      session.socket.end();
      setTimeout(() => {
        session.socket.destroy();
        socket.destroy();
      }, 2000).unref();
    });
    running.add(run);
  };

  // The server takes the key material itself; a prebuilt secureContext is only honoured by TLSSocket.
  const server = options.implicitTls && options.tls
    ? tls.createServer(options.tls, (socket) => handle(socket, true))
    : net.createServer((socket) => handle(socket, false));
  server.on('error', onError);
  if (server instanceof tls.Server) server.on('tlsClientError', () => undefined);

  return {
    server,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as net.AddressInfo).port);
        });
      }),
    close: async () => {
      for (const s of live) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Sessions release their mailbox locks on the way out.
      await Promise.allSettled([...running]);
    },
    sessions: () => live.size,
    endSessionsOf: (mailboxId) => {
      let ended = 0;
      for (const session of open) {
        if (session.mailboxId !== mailboxId) continue;
        // POP3 has no unsolicited reply: the connection just closes, and RFC 1939 §6 keeps the maildrop as it was.
        session.reader.close();
        session.socket.destroy();
        ended++;
      }
      return ended;
    },
  };
}

export async function runSession(session: Session, registry: CommandRegistry): Promise<void> {
  const settings = session.settings;
  session.attachInput(session.socket);
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    if (timer) clearTimeout(timer);
    const ms = session.state === 'authorization' ? settings.preLoginTimeoutMs : settings.idleTimeoutMs;
    // RFC 1939 §3: the autologout timer ends the session without entering UPDATE.
    timer = setTimeout(() => {
      session.write('-ERR Disconnected for inactivity\r\n');
      session.socket.end();
      session.reader.close();
    }, ms);
  };
  const tooManyBad = () => ++session.badCommands >= settings.maxBadCommands;
  try {
    arm();
    session.write(`+OK ${settings.serverName} POP3 ready\r\n`);
    while (!session.quitRequested) {
      const line = await session.reader.readLine();
      if (line.kind === 'closed') break;
      if (timer) clearTimeout(timer);
      if (line.kind === 'too-long') {
        session.write(`-ERR Line too long; the limit is ${settings.maxLineBytes} octets\r\n`);
        if (tooManyBad()) break;
        arm();
        continue;
      }
      const outcome = await dispatch(session, registry, line.text);
      if (!outcome.ok && outcome.badCommand && tooManyBad()) {
        session.write('-ERR Too many invalid commands; disconnecting\r\n');
        break;
      }
      if (session.authFailures >= settings.maxAuthFailures) {
        session.write('-ERR [AUTH] Too many failed logins; disconnecting\r\n');
        break;
      }
      const after = session.afterResponse;
      session.afterResponse = null;
      if (after) {
        try {
          await after();
        } catch {
          break; // a failed TLS handshake leaves nothing to talk over
        }
      }
      await session.drained();
      arm();
    }
  } finally {
    if (timer) clearTimeout(timer);
    await session.close();
  }
}
