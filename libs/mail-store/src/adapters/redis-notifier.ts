/** Mailbox change notifications over Redis pub/sub: one channel per mailbox, one subscriber connection per process. */
import type Redis from 'ioredis';
import type { MailboxEvent, MailboxEventHandler, Notifier, Unsubscribe } from '../ports/notifier';

export interface RedisNotifierOptions {
  /** Channel name prefix; tests and separate deployments sharing a Redis use their own. */
  prefix?: string;
  /** Handler exceptions and unparsable messages land here instead of killing the subscriber. */
  onError?: (err: unknown) => void;
}

export class RedisNotifier implements Notifier {
  private readonly prefix: string;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<MailboxEventHandler>>();
  // Serialises SUBSCRIBE/UNSUBSCRIBE so a quick subscribe-unsubscribe-subscribe ends subscribed.
  private queue: Promise<unknown> = Promise.resolve();

  /** `publisher` stays the caller's; a duplicate of it becomes the subscriber connection (Redis needs a dedicated one). */
  constructor(private readonly publisher: Redis, private readonly options: RedisNotifierOptions = {}) {
    this.prefix = options.prefix ?? 'dizi:mailbox:';
    this.subscriber = publisher.duplicate();
    this.subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    this.subscriber.on('error', (err) => this.options.onError?.(err));
    // ioredis resubscribes by itself after a reconnect, but what was published meanwhile is gone: tell every listener.
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      if (connectedBefore) this.resyncAll();
      connectedBefore = true;
    });
  }

  async publish(mailboxId: string, event: MailboxEvent): Promise<void> {
    await this.publisher.publish(this.channel(mailboxId), JSON.stringify(event));
  }

  async subscribe(mailboxId: string, handler: MailboxEventHandler): Promise<Unsubscribe> {
    const channel = this.channel(mailboxId);
    let set = this.handlers.get(channel);
    const first = !set;
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    if (first) await this.serialise(() => this.subscriber.subscribe(channel));
    return async () => {
      if (!set.delete(handler) || set.size > 0) return;
      this.handlers.delete(channel);
      await this.serialise(() => (this.handlers.has(channel) ? Promise.resolve() : this.subscriber.unsubscribe(channel)));
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await this.queue.catch(() => undefined);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private channel(mailboxId: string): string {
    return this.prefix + mailboxId;
  }

  private serialise<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.catch(() => undefined).then(op);
    this.queue = next;
    return next;
  }

  private resyncAll(): void {
    const event: MailboxEvent = { type: 'resync', folderId: null, uids: [], modseq: null };
    for (const set of this.handlers.values()) this.deliver(set, event);
  }

  private dispatch(channel: string, message: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    let event: MailboxEvent;
    try {
      event = JSON.parse(message) as MailboxEvent;
    } catch (err) {
      this.options.onError?.(err);
      return;
    }
    this.deliver(set, event);
  }

  private deliver(set: Set<MailboxEventHandler>, event: MailboxEvent): void {
    for (const handler of set) {
      try {
        handler(event);
      } catch (err) {
        this.options.onError?.(err);
      }
    }
  }
}
