/**
 * The TCP side every line protocol shares (IMAP, POP3, ManageSieve): a plain or implicit-TLS listener that asks the
 * per-address admission policy before the greeting, runs one session per admitted connection, and on close cuts every
 * connection and waits for the sessions to finish (they release their locks on the way out).
 */
import net, { type Socket } from 'node:net';
import tls, { type SecureContextOptions } from 'node:tls';

/** The per-address connection policy (the mail node counts in Redis, across nodes): admitted with a release, or why not. */
export type ConnectionAdmission = { admitted: true; release(): void } | { admitted: false; reason: 'rate' | 'concurrent' };
export type AdmitConnection = (remoteAddress: string) => Promise<ConnectionAdmission>;

export interface ListenerOptions {
  /** Key and certificate, used from the first byte when `implicitTls` (otherwise the protocol offers STARTTLS itself). */
  tls?: SecureContextOptions;
  implicitTls?: boolean;
  /** Without it every connection is admitted. */
  admitConnection?: AdmitConnection;
  /** What a refused client reads instead of the greeting; the connection then closes. */
  refusal(reason: 'rate' | 'concurrent'): string;
  /**
   * Runs the session of one admitted connection; when it settles the connection is ended. Resolves with the socket the
   * session ended on when a STARTTLS upgrade replaced the accepted one.
   */
  serve(socket: Socket, secure: boolean): Promise<Socket | void>;
  onError(err: unknown): void;
}

export interface Listener {
  server: net.Server;
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  /** Connections open now, admitted or still being admitted. */
  connections(): number;
}

/** How long a closing connection may take to deliver its last reply (and TLS close_notify) to a peer that is not reading. */
const LINGER_MS = 2000;

export function createListener(options: ListenerOptions): Listener {
  const live = new Set<Socket>();
  const running = new Set<Promise<void>>();

  const finish = (socket: Socket) => {
    // end() lets the last reply go out; a peer that never reads is cut off shortly after.
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };

  const handle = (socket: Socket, secure: boolean) => {
    // Replies are written whole (multi-line ones corked): Nagle's algorithm would only hold them for the peer's delayed ACK.
    socket.setNoDelay(true);
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    socket.on('error', () => undefined);
    const admission = options.admitConnection ? options.admitConnection(socket.remoteAddress ?? '') : Promise.resolve(ADMITTED);
    admission.then(
      (verdict) => {
        if (!verdict.admitted) {
          socket.end(options.refusal(verdict.reason));
          setTimeout(() => socket.destroy(), LINGER_MS).unref();
          return;
        }
        if (socket.destroyed) {
          verdict.release();
          return;
        }
        let last: Socket = socket;
        const run: Promise<void> = options
          .serve(socket, secure)
          .then((upgraded) => void (upgraded && (last = upgraded)))
          .catch(options.onError)
          .finally(() => {
            verdict.release();
            running.delete(run);
            finish(last);
            if (last !== socket) finish(socket);
          });
        running.add(run);
      },
      (err: unknown) => {
        options.onError(err);
        socket.destroy();
      },
    );
  };

  // tls.createServer takes the key and certificate themselves (a prebuilt secureContext is only honoured by TLSSocket).
  const server = options.implicitTls && options.tls
    ? tls.createServer(options.tls, (socket) => handle(socket, true))
    : net.createServer((socket) => handle(socket, false));
  server.on('error', options.onError);
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
      await Promise.allSettled([...running]);
    },
    connections: () => live.size,
  };
}

const ADMITTED: ConnectionAdmission = { admitted: true, release: () => undefined };

/** A TLS upgrade of an accepted plain connection (STARTTLS/STLS), or undefined when no key material is configured. */
export function tlsUpgrade(options: SecureContextOptions | undefined): ((socket: Socket) => Promise<Socket>) | undefined {
  if (!options) return undefined;
  const secureContext = tls.createSecureContext(options);
  return (socket) =>
    new Promise<Socket>((resolve, reject) => {
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
      secure.once('secure', () => resolve(secure));
      secure.once('error', reject);
    });
}
