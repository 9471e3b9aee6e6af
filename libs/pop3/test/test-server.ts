// A POP3 server on 127.0.0.1 over the in-memory store with accounts created on demand, for the protocol tests.
import { Readable } from 'node:stream';
import selfsigned from 'selfsigned';
import { MemoryBlobStore } from '@dizi/mail-store/adapters/memory-blob-store';
import { MemoryMessageStore } from '@dizi/mail-store/adapters/memory-message-store';
import { MemoryNotifier } from '@dizi/mail-store/adapters/memory-notifier';
import { INBOX, type AppendResult } from '@dizi/mail-store/ports/message-store';
import type { Authenticator } from '../src/authenticator';
import { MemoryMailboxLock } from '../src/mailbox-lock';
import { createPop3Server, type Pop3Server } from '../src/server';
import type { Pop3Settings } from '../src/settings';

export interface TestPop3Server {
  port: number;
  tlsPort: number;
  store: MemoryMessageStore;
  lock: MemoryMailboxLock;
  addAccount(username: string, password: string): Promise<string>;
  deliver(mailboxId: string, raw: string | Buffer, headerPrefix?: string): Promise<AppendResult>;
  close(): Promise<void>;
}

let material: Promise<{ key: string; cert: string }> | null = null;
const tlsMaterial = () =>
  (material ??= selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' }).then((p) => ({ key: p.private, cert: p.cert })));

export async function startTestPop3Server(settings: Partial<Pop3Settings> = {}): Promise<TestPop3Server> {
  const store = new MemoryMessageStore({ blobs: new MemoryBlobStore(), notifier: new MemoryNotifier() });
  const lock = new MemoryMailboxLock();
  const accounts = new Map<string, { password: string; mailboxId: string }>();
  const authenticator: Authenticator = {
    async login({ username, password }) {
      const a = accounts.get(username.toLowerCase());
      if (!a || a.password !== password) return { ok: false, code: 'AUTH', text: 'Authentication failed' };
      return { ok: true, mailboxId: a.mailboxId, username };
    },
  };
  const key = await tlsMaterial();
  const onError = (e: unknown) => console.error('pop3 server error', e);
  const plain: Pop3Server = createPop3Server({ store, authenticator, lock, settings, tls: key, onError });
  const implicit: Pop3Server = createPop3Server({ store, authenticator, lock, settings, tls: key, implicitTls: true, onError });
  const port = await plain.listen(0);
  const tlsPort = await implicit.listen(0);
  let n = 0;
  return {
    port, tlsPort, store, lock,
    async addAccount(username, password) {
      const mailboxId = `mailbox-${++n}`;
      store.addMailbox(mailboxId, 1024 ** 3);
      await store.createDefaultFolders(mailboxId);
      accounts.set(username.toLowerCase(), { password, mailboxId });
      return mailboxId;
    },
    async deliver(mailboxId, raw, headerPrefix) {
      const blob = await store.putBlob(Readable.from([Buffer.from(raw)]));
      return store.append(mailboxId, { name: INBOX }, { blobHash: blob.hash, headerPrefix, summary: {} }, { enforceQuota: false });
    },
    async close() {
      await plain.close();
      await implicit.close();
    },
  };
}
