/**
 * ManageSieve server factory (RFC 5804): one Session per socket, STARTTLS on the plain port, per-IP admission before
 * the greeting. Storage and logins arrive as ports, so the same server runs on memory stand-ins in tests.
 */
import type net from 'node:net';
import { createListener } from '@dizi/listener/listener';
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
  const open = new Set<Session>();
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

  const listener = createListener({
    admitConnection: options.admitConnection,
    refusal: (reason) =>
      statusLine('BYE', reason === 'rate' ? 'Too many connections from your address this minute, try again later.' : 'Too many concurrent connections from your address.', 'TRYLATER'),
    onError,
    serve: async (socket) => {
      const session = new Session(socket, services, false);
      open.add(session);
      await session.run().catch(onError).finally(() => open.delete(session));
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
        session.kill('Your session was ended by the administrator.');
        ended++;
      }
      return ended;
    },
  };
}
