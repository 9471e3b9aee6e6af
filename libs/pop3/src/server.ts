/**
 * POP3 server factory: one Session per socket, plain (STLS; no credentials before it) or implicit TLS.
 * Storage, logins and the mailbox lock arrive as ports, so the same server runs on the memory store in tests.
 */
import type net from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { createListener, tlsUpgrade } from '@dizi/listener/listener';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { Authenticator } from './authenticator';
import { ALL_COMMANDS } from './commands/all-commands';
import { refusalLine, type AdmitConnection } from './connection-admission';
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
  const open = new Set<Session>();
  const services: SessionServices = {
    store: options.store,
    authenticator: options.authenticator,
    lock: options.lock,
    settings,
    startTls: options.implicitTls ? undefined : tlsUpgrade(options.tls),
  };
  const onError = options.onError ?? (() => undefined);

  const listener = createListener({
    tls: options.tls,
    implicitTls: options.implicitTls,
    admitConnection: options.admitConnection,
    refusal: refusalLine,
    onError,
    serve: async (socket, secure) => {
      const session = new Session(socket, services, secure);
      open.add(session);
      await runSession(session, registry).catch(onError).finally(() => open.delete(session));
      return session.socket;
    },
  });

  return {
    server: listener.server,
    listen: listener.listen,
    close: listener.close,
    sessions: listener.connections,
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
