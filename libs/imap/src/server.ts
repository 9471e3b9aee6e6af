/**
 * IMAP server factory: one Session per socket, plain (STARTTLS, LOGINDISABLED until then) or implicit TLS.
 * Storage, notifications and logins arrive as ports, so the same server runs on the memory store in tests.
 */
import type net from 'node:net';
import type { Socket } from 'node:net';
import { createListener, tlsUpgrade, type AdmitConnection } from '@dizi/listener/listener';
import type { SecureContextOptions } from 'node:tls';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { Notifier } from '@dizi/mail-store/ports/notifier';
import { ALL_COMMANDS } from './commands/all-commands';
import type { Authenticator } from './authenticator';
import { ChangeFeed } from './change-feed';
import { CommandRegistry, dispatch } from './dispatcher';
import { capabilities } from './capabilities';
import { feedReader } from './feed-reader';
import { readCommand, type ParserHooks } from './parser/command-parser';
import { InputClosedError } from './parser/input-reader';
import { MemoryRecentTracker, type RecentTracker } from './recent-tracker';
import { DEFAULT_IMAP_SETTINGS, Session, type ImapSettings, type SessionServices } from './session';
import { openMessageSink } from './commands/append.command';

export interface ImapServerOptions {
  store: MessageStore;
  notifier: Notifier;
  authenticator: Authenticator;
  recent?: RecentTracker;
  /** Shared by the servers of one node (the STARTTLS and the implicit-TLS listener); one is made when absent. */
  changes?: ChangeFeed;
  settings?: Partial<ImapSettings>;
  /** Key and certificate: enables STARTTLS on the plain port, and `implicitTls` uses them from the first byte. */
  tls?: SecureContextOptions;
  implicitTls?: boolean;
  /** Per-IP connection policy (the mail node counts in Redis), asked before the greeting; refused clients get BYE. */
  admitConnection?: AdmitConnection;
  onError?: (err: unknown) => void;
}

export interface ImapServer {
  server: net.Server;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  sessions(): number;
  /** Ends every session signed in as this mailbox (suspended, password reset): BYE, then close. Returns how many. */
  endSessionsOf(mailboxId: string, reason: string): number;
}

export function createImapServer(options: ImapServerOptions): ImapServer {
  const settings: ImapSettings = { ...DEFAULT_IMAP_SETTINGS, ...options.settings };
  const registry = new CommandRegistry(ALL_COMMANDS);
  const recent = options.recent ?? new MemoryRecentTracker();
  const open = new Set<Session>();
  const services: SessionServices = {
    store: options.store,
    notifier: options.notifier,
    changes: options.changes ?? new ChangeFeed(options.store, options.notifier),
    authenticator: options.authenticator,
    recent,
    settings,
    startTls: tlsUpgrade(options.tls),
  };
  const onError = options.onError ?? (() => undefined);

  const listener = createListener({
    tls: options.tls,
    implicitTls: options.implicitTls,
    admitConnection: options.admitConnection,
    refusal: (reason) =>
      reason === 'rate' ? '* BYE Too many connections from your address this minute, try again later\r\n' : '* BYE Too many connections from your address\r\n',
    onError,
    serve: (socket, secure) => runSession(socket, secure, services, registry, open),
  });

  return {
    server: listener.server,
    listen: listener.listen,
    close: listener.close,
    sessions: listener.connections,
    endSessionsOf: (mailboxId, reason) => {
      let ended = 0;
      for (const session of open) {
        if (session.mailboxId !== mailboxId) continue;
        // RFC 9051 §7.1.5: BYE may come at any time; the reader's close fails any command or literal in flight.
        session.write(`* BYE ${reason}\r\n`);
        session.uncork();
        session.socket.end();
        session.reader.close();
        ended++;
      }
      return ended;
    },
  };
}

async function runSession(socket: Socket, secure: boolean, services: SessionServices, registry: CommandRegistry, open: Set<Session>): Promise<Socket> {
  const session = new Session(socket, services, secure);
  open.add(session);
  socket.once('close', () => open.delete(session));
  session.detachInput = feedReader(session, socket);
  const settings = services.settings;
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    if (timer) clearTimeout(timer);
    const ms = session.state === 'not-authenticated' ? settings.preLoginTimeoutMs : settings.idleTimeoutMs;
    timer = setTimeout(() => {
      session.write('* BYE Autologout; idle for too long\r\n');
      socket.end();
      session.reader.close();
    }, ms);
  };
  arm();
  session.write(`* OK [CAPABILITY ${capabilities(session).join(' ')}] ${settings.serverName} ready.\r\n`);
  const hooks: ParserHooks = {
    continuation: () => session.write('+ OK\r\n'),
    openMessageSink: (size, binary) => openMessageSink(session, size, binary),
  };
  try {
    while (!socket.destroyed && !session.logoutRequested) {
      const result = await readCommand(session.reader, settings, hooks, { authenticated: session.state !== 'not-authenticated' });
      arm();
      if (result.kind === 'empty') continue;
      session.cork();
      if (result.kind === 'error') {
        session.write(`${result.tag ?? '*'} ${result.status} ${result.code ? `[${result.code}] ` : ''}${result.text}\r\n`);
        if (result.fatal) {
          session.write('* BYE Protocol error; closing the connection\r\n');
          session.uncork();
          break;
        }
        if (result.status === 'BAD' && ++session.badCommands >= settings.maxBadCommands) {
          session.write('* BYE Too many invalid commands\r\n');
          session.uncork();
          break;
        }
        session.uncork();
        if (result.restOfLinePending) {
          // Answered already; the rest of the line is dropped as it comes. A literal it announced without waiting
          // for "+" would follow as data we cannot tell from commands.
          const tail = (await session.reader.discardLine()).toString('latin1');
          if (/\{\d+[+-]\}\r?\n$/.test(tail)) {
            session.write('* BYE Protocol error; closing the connection\r\n');
            break;
          }
        }
        continue;
      }
      const { command } = result;
      const outcome = await dispatch(session, registry, command);
      if (outcome.status === 'BAD' && ++session.badCommands >= settings.maxBadCommands) {
        session.write(`${command.tag} BAD ${outcome.text}\r\n* BYE Too many invalid commands\r\n`);
        session.uncork();
        break;
      }
      const code = outcome.code ? `[${outcome.code}] ` : '';
      session.write(`${command.tag} ${outcome.status} ${code}${outcome.text}\r\n`);
      session.uncork();
      if (session.restOfLinePending) {
        session.restOfLinePending = false;
        await session.reader.discardLine();
      }
      await session.afterResponse?.();
      session.afterResponse = null;
      await session.drained();
      arm();
    }
  } catch (err) {
    if (!(err instanceof InputClosedError)) {
      session.uncork();
      session.write('* BYE Internal server error\r\n');
      throw err;
    }
  } finally {
    if (timer) clearTimeout(timer);
    session.uncork();
    await session.close();
  }
  return session.socket;
}

