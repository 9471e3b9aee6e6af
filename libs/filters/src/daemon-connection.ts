/**
 * One request/response exchange with a scanning daemon (clamd, spamd) over TCP or a unix socket: both answer
 * once and close. The whole exchange — connect, send, answer — has one deadline; a write waits for the socket to
 * drain so a big message is never buffered in memory whole.
 */
import { connect, type Socket } from 'node:net';
import { scannerConnectOptions } from './scanner-address';

/** The daemon could not be reached, broke the exchange, did not answer in time or answered nonsense. */
export class ScannerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScannerError';
  }
}

export class DaemonConnection {
  private readonly chunks: Buffer[] = [];
  private failure: Error | null = null;
  private readonly closed: Promise<void>;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly socket: Socket,
    readonly daemon: string,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => this.fail(new ScannerError(`${daemon} did not answer within ${timeoutMs} ms`)), timeoutMs);
    this.timer.unref();
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    socket.on('error', (err) => this.fail(new ScannerError(`${daemon}: ${err.message}`)));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      clearTimeout(this.timer);
      resolve();
    }));
  }

  /** Connects within the exchange's deadline. */
  static async open(daemon: string, address: string, timeoutMs: number): Promise<DaemonConnection> {
    const socket = connect(scannerConnectOptions(address));
    const conn = new DaemonConnection(socket, daemon, timeoutMs);
    await new Promise<void>((resolve, reject) => {
      if (conn.failure) return reject(conn.failure);
      socket.once('connect', resolve);
      void conn.closed.then(() => reject(conn.failure ?? new ScannerError(`${daemon} closed the connection`)));
    });
    return conn;
  }

  /** Resolves once the socket can take more; rejects when the exchange has failed or the daemon went away. */
  async write(data: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.socket.destroyed) throw new ScannerError(`${this.daemon} closed the connection`);
    if (this.socket.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.socket.off('drain', onDrain);
        reject(this.failure ?? new ScannerError(`${this.daemon} closed the connection`));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Everything the daemon sent until it closed; rejects on timeout or a broken connection. */
  async answer(): Promise<Buffer> {
    await this.closed;
    if (this.failure) throw this.failure;
    return Buffer.concat(this.chunks);
  }

  /** What arrived so far (a daemon may answer before it has read everything, e.g. clamd over its size limit). */
  receivedSoFar(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Waits for the daemon to close after a failed write, without caring how it ended. */
  async settle(): Promise<void> {
    await this.closed;
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.socket.destroy();
  }

  close(): void {
    clearTimeout(this.timer);
    this.socket.destroy();
  }
}
