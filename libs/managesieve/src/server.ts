/**
 * ManageSieve server factory (RFC 5804): one Session per socket, STARTTLS on the plain port, per-IP admission before
 * the greeting. Storage and logins arrive as ports, so the same server runs on memory stand-ins in tests.
 */
import net, { type Socket } from 'node:net';
import tls, { type SecureContextOptions } from 'node:tls';
import type { AdmitConnection, ManageSieveAuthenticator, ManageSieveLimits, ManageSieveStore } from './ports';
import { statusLine } from './response';
import { Session } from './session';
import { DEFAULT_MANAGESIEVE_SETTINGS, type ManageSieveSettings } from './settings';

export interface ManageSieveServerOptions {
  store: ManageSieveStore;
  authenticator: ManageSieveAuthenticator;
  /** Read for every command that needs them, so a settings change applies without restart. */
  limits: () => ManageSieveLimits;
  settings?: Partial<ManageSieveSettings>;
  /** Key and certificate: STARTTLS is offered. */
  tls?: SecureContextOptions;
  /** AUTHENTICATE PLAIN before STARTTLS (tests only). */
  allowPlaintextAuth?: boolean;
  admitConnection?: AdmitConnection;
  onError?: (err: unknown) => void;
  onLogin?: (event: { mailboxId: string; username: string; remoteAddress: string }) => void;
}

export interface ManageSieveServer {
  server: net.Server;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  sessions(): number;
  endSessionsOf(mailboxId: string): number;
}

export function createManageSieveServer(options: ManageSieveServerOptions): ManageSieveServer {
  const settings: ManageSieveSettings = { ...DEFAULT_MANAGESIEVE_SETTINGS, ...options.settings };
  const secureContext = options.tls ? tls.createSecureContext(options.tls) : null;
  const live = new Set<Socket>();
  const open = new Set<Session>();
  const running = new Set<Promise<void>>();
  const onError = options.onError ?? (() => undefined);
  const services = {
    store: options.store,
    authenticator: options.authenticator,
    limits: options.limits,
    settings,
    secureContext,
    allowPlaintextAuth: options.allowPlaintextAuth ?? false,
    onLogin: options.onLogin,
  };

  const start = (socket: Socket, release: () => void) => {
    const session = new Session(socket, services, false);
    open.add(session);
    const run = session.run().catch(onError).finally(() => {
      open.delete(session);
      release();
      running.delete(run);
      session.socket.end();
      setTimeout(() => {
        session.socket.destroy();
        socket.destroy();
      }, 2000).unref();
    });
    running.add(run);
  };

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    socket.on('error', () => undefined);
    const admission = options.admitConnection ? options.admitConnection(socket.remoteAddress ?? '') : Promise.resolve({ admitted: true as const, release: () => undefined });
    admission.then(
      (verdict) => {
        if (!verdict.admitted) {
          socket.end(statusLine('BYE', verdict.reason === 'rate' ? 'Too many connections from your address this minute, try again later.' : 'Too many concurrent connections from your address.', 'TRYLATER'));
          setTimeout(() => socket.destroy(), 2000).unref();
        } else if (socket.destroyed) verdict.release();
        else start(socket, verdict.release);
      },
      (err: unknown) => {
        onError(err);
        socket.destroy();
      },
    );
  });
  server.on('error', onError);

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
      await Promise.allSettled([...running]);
    },
    sessions: () => live.size,
    endSessionsOf: (mailboxId) => {
      let ended = 0;
      for (const session of open) {
        if (session.mailboxId !== mailboxId) continue;
        session.kill('Your session was ended by the administrator.');
        ended++;
      }
      return ended;
    },
  };
}
