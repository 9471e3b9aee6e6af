/** In-process notifications, for protocol unit tests and single-process development. */
import type { MailboxEvent, MailboxEventHandler, Notifier, Unsubscribe } from '../ports/notifier';

export class MemoryNotifier implements Notifier {
  private readonly handlers = new Map<string, Set<MailboxEventHandler>>();

  async publish(mailboxId: string, event: MailboxEvent): Promise<void> {
    // Delivered asynchronously, as over Redis, so handlers never run inside the publisher's call.
    const handlers = [...(this.handlers.get(mailboxId) ?? [])];
    if (handlers.length === 0) return;
    const copy = structuredClone(event);
    queueMicrotask(() => handlers.forEach((h) => h(copy)));
  }

  async subscribe(mailboxId: string, handler: MailboxEventHandler): Promise<Unsubscribe> {
    let set = this.handlers.get(mailboxId);
    if (!set) this.handlers.set(mailboxId, (set = new Set()));
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(mailboxId) === set) this.handlers.delete(mailboxId);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
