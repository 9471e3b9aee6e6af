/**
 * One POP3 session per mailbox at a time (RFC 1939 §8 exclusive-access lock). The port lets a cluster share the lock
 * (Redis, in apps/mta); the memory version serves one process and the tests.
 */

export interface MailboxLease {
  release(): Promise<void>;
}

export interface MailboxLock {
  /**
   * Null when another session holds the mailbox. `onLost` runs if the lease can no longer be kept (expired
   * because the holder stalled, or taken over): the session must then end without touching the maildrop.
   */
  acquire(mailboxId: string, onLost?: () => void): Promise<MailboxLease | null>;
}

export class MemoryMailboxLock implements MailboxLock {
  private readonly held = new Set<string>();

  async acquire(mailboxId: string): Promise<MailboxLease | null> {
    if (this.held.has(mailboxId)) return null;
    this.held.add(mailboxId);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        this.held.delete(mailboxId);
      },
    };
  }

  isHeld(mailboxId: string): boolean {
    return this.held.has(mailboxId);
  }
}
