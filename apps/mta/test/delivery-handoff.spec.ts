/**
 * A node running both smtp and delivery hands spooled mail to its own delivery workers without a Redis job
 * (local-first-queues.ts); with no room, or with the hand-over turned off, mail takes the shared BullMQ queue.
 * The shared queue is paused in these tests, so only the in-process path can deliver while it is.
 */
import { Queue as BullQueue } from 'bullmq';
import Redis from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryJobId, Queue } from '@dizi/contracts/queues';
import { TEST_REDIS_URL } from '@dizi/testing/test-database';
import { until } from '@dizi/testing/until';
import { startTestNode, type TestNode } from './harness';
import { SmtpTalk } from './smtp-talk';

/** Polling as these tests always did: every 50 ms, for up to 10 s. */
const FAST = { timeoutMs: 10_000, intervalMs: 50 };

let node: TestNode | null = null;
let queue: BullQueue | null = null;

afterEach(async () => {
  await queue?.close();
  queue = null;
  await node?.close();
  node = null;
});

async function start(env: Record<string, string> = {}): Promise<{ node: TestNode; queue: BullQueue; address: string; mailboxId: string }> {
  node = await startTestNode({ roles: ['smtp', 'delivery'], env });
  const tenant = await node.seed.tenant('Handoff');
  const domain = await node.seed.domain(tenant.id, 'handoff.test');
  const mailbox = await node.seed.mailbox(domain.id, 'ann');
  queue = new BullQueue(Queue.Delivery, { connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }), prefix: `${node.redisPrefix}bull` });
  await queue.pause();
  return { node, queue, address: mailbox.address, mailboxId: mailbox.id };
}

/** Sends `count` messages on one connection; returns their spool ids (from the 250 replies). */
async function send(n: TestNode, to: string, count: number): Promise<string[]> {
  const talk = await SmtpTalk.open(n.ports.smtp);
  const ids: string[] = [];
  try {
    expect((await talk.cmd('EHLO client.outside.test')).code).toBe(250);
    for (let i = 0; i < count; i++) {
      expect((await talk.cmd('MAIL FROM:<someone@outside.test>')).code).toBe(250);
      expect((await talk.cmd(`RCPT TO:<${to}>`)).code).toBe(250);
      const reply = await talk.data(`From: someone@outside.test\r\nTo: ${to}\r\nSubject: handoff ${i}\r\n\r\nbody ${i}\r\n`);
      expect(reply.code).toBe(250);
      ids.push(/id=(\S+)/.exec(reply.line)?.[1] ?? reply.line);
    }
  } finally {
    await talk.quit();
  }
  return ids;
}

async function stored(n: TestNode, mailboxId: string): Promise<number> {
  const [{ count }] = await n.db.dataSource.query(`SELECT count(*)::int AS count FROM message WHERE mailbox_id = $1`, [mailboxId]);
  return count;
}

describe('in-process hand-over from smtp to delivery', () => {
  it('delivers without a queue job while the shared queue is paused', async () => {
    const { node: n, address, mailboxId } = await start();
    await send(n, address, 5);
    await until('5 messages in the mailbox', async () => (await stored(n, mailboxId)) === 5, FAST);
    // Nothing waits in the shared queue, and every recipient is final.
    // (BullMQ 6 keeps the jobs of a paused queue in its wait list.)
    const counts = await queue!.getJobCounts('waiting', 'prioritized', 'delayed');
    expect(counts).toEqual({ waiting: 0, prioritized: 0, delayed: 0 });
    const pending = await n.db.dataSource.query(`SELECT count(*)::int AS count FROM spool_recipient WHERE status <> 'delivered'`);
    expect(pending[0].count).toBe(0);
  });

  it('queues in Redis when the hand-over is turned off, and delivers once the queue runs', async () => {
    const { node: n, address, mailboxId } = await start({ DELIVERY_HANDOFF_LIMIT: '0' });
    const [id] = await send(n, address, 1);
    const rows = await n.db.dataSource.query(`SELECT id FROM spool_message`);
    expect(rows).toHaveLength(1);
    await until('the delivery job', async () => (await queue!.getJob(deliveryJobId({ spoolMessageId: rows[0].id }))) !== undefined, FAST);
    await new Promise((r) => setTimeout(r, 300));
    expect(await stored(n, mailboxId)).toBe(0);
    await queue!.resume();
    await until(`message ${id} in the mailbox`, async () => (await stored(n, mailboxId)) === 1, FAST);
  });

  it('falls back to the queue past its limit, and every message still arrives once', async () => {
    const { node: n, address, mailboxId } = await start({ DELIVERY_HANDOFF_LIMIT: '1' });
    // Two connections at once: while one message is being delivered in process, the other must take the queue.
    await Promise.all([send(n, address, 10), send(n, address, 10)]);
    const { waiting } = await queue!.getJobCounts('waiting');
    expect(waiting).toBeGreaterThan(0);
    await queue!.resume();
    await until('20 messages in the mailbox', async () => (await stored(n, mailboxId)) === 20, FAST);
    await new Promise((r) => setTimeout(r, 300));
    expect(await stored(n, mailboxId)).toBe(20);
  });
});
