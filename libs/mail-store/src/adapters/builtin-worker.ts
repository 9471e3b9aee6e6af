/**
 * One worker thread running a plain JavaScript source: what the file read and blob write pools run their blocking fs
 * calls in (Node's builtins only), and what the spool summary pool loads its TypeScript modules from (its source
 * requires the loader itself).
 */
import { Worker, type TransferListItem } from 'node:worker_threads';

export interface BuiltinWorkerEvents<Out> {
  message(m: Out): void;
  /** Called once, when the thread failed or exited: whatever it was doing is lost and must be failed by the owner. */
  gone(err: Error): void;
}

export class BuiltinWorker<In, Out> {
  private readonly worker: Worker;
  private holds = 0;
  private dead = false;
  /** Resolves once the thread has stopped: from then on it reads no memory it shared with this one. */
  readonly exited: Promise<void>;

  /**
   * `source` is evaluated as a CommonJS script, not loaded from a file: the app runs TypeScript through a require hook
   * and the tests through vitest's transform, neither of which a worker would inherit, and a file beside this one
   * would not survive bundling. No inherited `-r` loaders either (TypeScript registration costs a second per start).
   */
  constructor(label: string, source: string, events: BuiltinWorkerEvents<Out>, workerData?: unknown) {
    this.worker = new Worker(source, { eval: true, execArgv: [], workerData });
    // Idle threads never keep the process alive; `hold` references it while work is outstanding.
    this.worker.unref();
    this.worker.on('message', (m: Out) => events.message(m));
    const fail = (err: Error) => {
      if (this.dead) return;
      this.dead = true;
      events.gone(err);
    };
    this.worker.on('error', fail);
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        fail(new Error(`${label} worker exited (${code})`));
        resolve();
      });
    });
  }

  post(m: In, transfer?: readonly TransferListItem[]): void {
    this.worker.postMessage(m, transfer);
  }

  /** Keeps the process alive until the matching `release`: something awaits an answer from this thread. */
  hold(): void {
    if (this.holds++ === 0) this.worker.ref();
  }

  release(): void {
    if (--this.holds === 0) this.worker.unref();
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
