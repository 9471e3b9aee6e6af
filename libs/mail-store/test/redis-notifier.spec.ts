import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisNotifier } from '../src/adapters/redis-notifier';
import type { MailboxEvent } from '../src/ports/notifier';
import { waitFor } from './message-store-suite';

// Same default as libs/testing's TEST_REDIS_URL.
const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('RedisNotifier against the real Redis', () => {
  const prefix = `dizi-test:${randomBytes(6).toString('hex')}:mailbox:`;
  let publisherConn: Redis;
  let subscriberConn: Redis;
  let a: RedisNotifier;
  let b: RedisNotifier;
  const errors: unknown[] = [];

  beforeAll(() => {
    publisherConn = new Redis(TEST_REDIS_URL);
    subscriberConn = new Redis(TEST_REDIS_URL);
    // Two notifiers on two connections: a publishing node and an IMAP node with IDLE clients.
    a = new RedisNotifier(publisherConn, { prefix, onError: (e) => errors.push(e) });
    b = new RedisNotifier(subscriberConn, { prefix, onError: (e) => errors.push(e) });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    publisherConn.disconnect();
    subscriberConn.disconnect();
  });

  it('delivers events for one mailbox to its subscribers only, until they unsubscribe', async () => {
    const mailbox = randomUUID();
    const other = randomUUID();
    const got1: MailboxEvent[] = [];
    const got2: MailboxEvent[] = [];
    const gotOther: MailboxEvent[] = [];
    const un1 = await b.subscribe(mailbox, (e) => got1.push(e));
    const un2 = await b.subscribe(mailbox, (e) => got2.push(e));
    const unOther = await b.subscribe(other, (e) => gotOther.push(e));
    const event: MailboxEvent = { type: 'exists', folderId: randomUUID(), uids: [41, 42], modseq: 17 };
    await a.publish(mailbox, event);
    await waitFor(() => got1.length === 1 && got2.length === 1);
    expect(got1).toEqual([event]);
    expect(got2).toEqual([event]);

    // The channel is named by the prefix and the mailbox: a raw subscriber sees the JSON too.
    expect(await publisherConn.publish(`${prefix}${mailbox}`, JSON.stringify({ ...event, type: 'flags' }))).toBe(1);
    await waitFor(() => got1.length === 2);
    expect(got1[1].type).toBe('flags');

    await un1();
    await a.publish(mailbox, { type: 'expunge', folderId: event.folderId, uids: [41], modseq: 18 });
    await waitFor(() => got2.length === 3);
    expect(got1).toHaveLength(2);
    await un2();
    // The last handler gone, the process unsubscribes from the channel itself.
    expect(await publisherConn.publish(`${prefix}${mailbox}`, '{}')).toBe(0);
    expect(gotOther).toEqual([]);
    await unOther();
    expect(errors).toEqual([]);
  });

  it('keeps going after a handler throws and reports it', async () => {
    const mailbox = randomUUID();
    const got: MailboxEvent[] = [];
    const unBad = await b.subscribe(mailbox, () => { throw new Error('handler broke'); });
    const unGood = await b.subscribe(mailbox, (e) => got.push(e));
    await a.publish(mailbox, { type: 'folders', folderId: null, uids: [], modseq: null });
    await waitFor(() => got.length === 1);
    expect((errors.pop() as Error).message).toBe('handler broke');
    await unBad();
    await unGood();
  });

  it('tells every subscriber to re-read after its connection to Redis dropped and came back', async () => {
    const name = `dizi-test-resync-${randomBytes(4).toString('hex')}`;
    const conn = new Redis(TEST_REDIS_URL, { connectionName: name });
    const notifier = new RedisNotifier(conn, { prefix, onError: () => undefined });
    try {
      const mailbox = randomUUID();
      const got: MailboxEvent[] = [];
      await notifier.subscribe(mailbox, (e) => got.push(e));
      // Kill only this notifier's subscriber connection (the duplicate carries the same name and is subscribed).
      const clients = (await publisherConn.client('LIST')) as string;
      const subscriber = clients.split('\n').find((l) => l.includes(` name=${name} `) && / sub=[1-9]/.test(l));
      expect(subscriber, clients).toBeDefined();
      const id = / id=(\d+) /.exec(` ${subscriber}`)![1];
      await publisherConn.client('KILL', 'ID', id);
      await waitFor(() => got.length === 1, 10_000);
      expect(got).toEqual([{ type: 'resync', folderId: null, uids: [], modseq: null }]);
      // Resubscribed: events flow again.
      const event: MailboxEvent = { type: 'exists', folderId: randomUUID(), uids: [1], modseq: 2 };
      for (let tries = 0; got.length === 1 && tries < 100; tries++) {
        await a.publish(mailbox, event);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(got[got.length - 1]).toEqual(event);
    } finally {
      await notifier.close();
      conn.disconnect();
    }
  });
});
