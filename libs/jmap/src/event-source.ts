/**
 * JMAP push over EventSource (RFC 8620 §7.3): a `state` event whenever the account's Mailbox or Email state moves past
 * what the stream last reported, fed by the store's change notifier (the Redis channel IMAP IDLE listens to), and a
 * `ping` every `ping` seconds. With closeafter=state the stream ends after its first state event.
 */
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { Notifier, Unsubscribe } from '@dizi/mail-store/ports/notifier';
import type { JmapAccount } from './method';
import { emailState, mailboxMarks, mailboxState } from './state';

export const PUSH_TYPES = ['Mailbox', 'Email', 'Thread'] as const;

export interface EventSourceOptions {
  types: ReadonlyArray<(typeof PUSH_TYPES)[number]>;
  closeAfterState: boolean;
  /** 0: no pings. */
  pingSeconds: number;
}

/** The query of the eventSourceUrl; a string saying what is wrong when it is not valid. */
export function parseEventSourceQuery(query: URLSearchParams, maxPingSeconds = 300): EventSourceOptions | string {
  const typesRaw = query.get('types') ?? '*';
  const types = typesRaw === '*' ? [...PUSH_TYPES] : typesRaw.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = types.filter((t) => !(PUSH_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) return `types: unknown data types ${unknown.join(', ')} (use ${PUSH_TYPES.join(',')} or *)`;
  const closeafter = query.get('closeafter') ?? 'no';
  if (closeafter !== 'state' && closeafter !== 'no') return 'closeafter must be "state" or "no"';
  const pingRaw = query.get('ping') ?? '0';
  if (!/^[0-9]{1,6}$/.test(pingRaw)) return 'ping must be a number of seconds';
  // RFC 8620: the server MAY raise a ping below its minimum and lower one above its maximum.
  const ping = Number(pingRaw) === 0 ? 0 : Math.min(Math.max(Number(pingRaw), 5), maxPingSeconds);
  return { types: types as EventSourceOptions['types'], closeAfterState: closeafter === 'state', pingSeconds: ping };
}

export interface EventSink {
  write(chunk: string): void;
  end(): void;
}

export class StateStream {
  private last: Record<string, string> = {};
  private unsubscribe?: Unsubscribe;
  private ping?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly store: MessageStore,
    private readonly notifier: Notifier,
    private readonly account: JmapAccount,
    private readonly sink: EventSink,
    private readonly options: EventSourceOptions,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.notifier.subscribe(this.account.mailboxId, () => this.schedule());
    // The client may have gone while the subscription was being made.
    if (this.closed) return void (await this.unsubscribe());
    this.last = await this.states();
    if (this.closed) return;
    if (this.options.pingSeconds > 0) {
      this.ping = setInterval(() => this.sink.write(`event: ping\ndata: ${JSON.stringify({ interval: this.options.pingSeconds })}\n\n`), this.options.pingSeconds * 1000);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ping);
    clearTimeout(this.pending);
    await this.unsubscribe?.();
  }

  /** Events come in bursts (a delivery to many folders, a STORE): one look at the states per burst. */
  private schedule(): void {
    if (this.pending || this.closed) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.report().catch(this.onError);
    }, 20);
  }

  private async report(): Promise<void> {
    const now = await this.states();
    const changed: Record<string, string> = {};
    for (const type of this.options.types) if (now[type] !== this.last[type]) changed[type] = now[type];
    this.last = now;
    if (this.closed || Object.keys(changed).length === 0) return;
    const event = { '@type': 'StateChange', changed: { [this.account.accountId]: changed } };
    this.sink.write(`event: state\ndata: ${JSON.stringify(event)}\n\n`);
    if (this.options.closeAfterState) {
      await this.close();
      this.sink.end();
    }
  }

  private async states(): Promise<Record<string, string>> {
    const folders = await this.store.listFolders(this.account.mailboxId);
    const email = emailState(folders);
    return { Mailbox: mailboxState(mailboxMarks(folders)), Email: email, Thread: email };
  }
}
