// An IMAP server on 127.0.0.1 over the in-memory store, with accounts created on demand (tests and the ImapTest runner).
import { MemoryBlobStore } from '@dizi/mail-store/adapters/memory-blob-store';
import { MemoryMessageStore } from '@dizi/mail-store/adapters/memory-message-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import type { Authenticator } from '../src/authenticator';
import { createImapServer, type ImapServer } from '../src/server';
import type { ImapSettings } from '../src/session';

export interface TestImapServer {
  port: number;
  imap: ImapServer;
  store: MemoryMessageStore;
  notifier: MemoryNotifier;
  addAccount(username: string, password: string, quotaBytes?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startTestImapServer(settings: Partial<ImapSettings> = {}, tls?: { key: string; cert: string }): Promise<TestImapServer> {
  const notifier = new MemoryNotifier();
  const store = new MemoryMessageStore({ blobs: new MemoryBlobStore(), notifier });
  const accounts = new Map<string, { password: string; mailboxId: string }>();
  const authenticator: Authenticator = {
    async login({ username, password }) {
      const a = accounts.get(username.toLowerCase());
      if (!a || a.password !== password) return { ok: false, code: 'AUTHENTICATIONFAILED', text: 'Invalid credentials' };
      return { ok: true, mailboxId: a.mailboxId, username };
    },
  };
  const imap = createImapServer({ store, notifier, authenticator, settings: { allowInsecureAuth: true, ...settings }, tls, onError: (e) => console.error('imap server error', e) });
  const port = await imap.listen(0);
  let n = 0;
  return {
    port, imap, store, notifier,
    async addAccount(username, password, quotaBytes = 1024 ** 3) {
      const mailboxId = `mailbox-${++n}`;
      store.addMailbox(mailboxId, quotaBytes);
      await store.createDefaultFolders(mailboxId);
      accounts.set(username.toLowerCase(), { password, mailboxId });
      return mailboxId;
    },
    close: () => imap.close(),
  };
}
