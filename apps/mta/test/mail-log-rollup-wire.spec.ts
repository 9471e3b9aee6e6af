/**
 * The scheduler role keeps the dashboard's mail-log rollups (issue 16): started after a time without one, it catches
 * up every closed hour of the log at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMailLog } from '@dizi/delivery/adapters/postgres/mail-log';
import { startSchedulerRole } from '../src/roles/scheduler.role';
import { startTestNode, TestNode } from './harness';

describe('mail log rollups kept by the scheduler', () => {
  let node: TestNode;
  const hour = 3_600_000;

  beforeAll(async () => {
    // Only the delivery role first: it writes nothing to the log by itself, like a cluster whose scheduler is down.
    node = await startTestNode({ roles: ['delivery'] });
  }, 180_000);
  afterAll(async () => {
    await node?.close();
  });

  it('catches up the hours logged while no scheduler ran as soon as one starts', async () => {
    const db = node.db.dataSource;
    const now = Date.now();
    const session = (hoursAgo: number, result: string, mailFrom: string) =>
      ({ level: 'info' as const, kind: 'session' as const, node: 'mx1', result, mailFrom, recipients: ['x@y.test'], reason: result === 'rejected' ? '550 5.1.1 unknown' : '', at: new Date(now - hoursAgo * hour) });
    await writeMailLog(node.ctx.pool, [session(30, 'accepted', 'a@p.test'), session(30, 'rejected', 'b@p.test'), session(5, 'accepted', 'A@p.test'), session(2, 'rejected', 'b@p.test')]);
    expect((await db.query(`SELECT rolled_until FROM mail_rollup_state`))[0].rolled_until).toBeNull();

    const scheduler = await startSchedulerRole(node.ctx);
    try {
      // The first pass runs as the role starts: every hour that ended over 5 minutes ago.
      const expected = Math.floor((now - 300_000) / hour) * hour;
      await expect.poll(async () => (await db.query(`SELECT rolled_until FROM mail_rollup_state`))[0].rolled_until?.getTime(), { timeout: 30_000 }).toBe(expected);
      expect(await db.query(`SELECT sum(inbound)::int AS inbound, sum(refused)::int AS refused FROM mail_hourly`)).toEqual([{ inbound: 2, refused: 2 }]);
      expect(await db.query(`SELECT sender, sum(count)::int AS n FROM mail_sender_daily GROUP BY 1`)).toEqual([{ sender: 'a@p.test', n: 2 }]);
      expect(await db.query(`SELECT reason, sum(count)::int AS n FROM mail_refusal_hourly GROUP BY 1`)).toEqual([{ reason: '550 5.1.1 unknown', n: 2 }]);
    } finally {
      await scheduler.stop();
    }
  });
});
