/**
 * Many IMAP sessions at once on the real store (PostgreSQL, Redis notifications), checked by our state-checking
 * stress client (libs/testing imap-stress): every response must agree with what the session was told before, and a
 * keyword another session adds must be announced by FLAGS before the first FETCH that shows it (RFC 9051 §7.3.5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapWire } from '@dizi/testing/imap-stress/imap-wire';
import { formatStressReport, runImapStress, STRESS_COMMANDS } from '@dizi/testing/imap-stress/stress-client';
import { startTestNode, TEST_MAILBOX_PASSWORD, type TestNode } from './harness';
import type { ImapRunningRole } from '../src/roles/imap.role';

const FOLDERS = ['INBOX', 'box1', 'box2', 'box3'];

describe('IMAP under concurrent mixed load', () => {
  let node: TestNode;
  let port: number;
  let address: string;

  beforeAll(async () => {
    node = await startTestNode({ roles: ['imap'] });
    port = (node.roles.find((r) => r.name === 'imap') as ImapRunningRole).ports.imaps;
    const tenant = await node.seed.tenant('Stress');
    const domain = await node.seed.domain(tenant.id, 'stress.test');
    const mailbox = await node.seed.mailbox(domain.id, 'load', TEST_MAILBOX_PASSWORD, { quotaBytes: 1024 ** 3 });
    address = mailbox.address;
    for (const f of FOLDERS.slice(1)) await node.ctx.store.createFolder(mailbox.id, f, { subscribed: true });
    // A few messages in every folder, so FETCH, STORE, COPY and EXPUNGE have something from the first command on.
    const { wire } = await ImapWire.connect({ host: '127.0.0.1', port, tls: true, timeoutMs: 30_000 });
    expect((await wire.command(`LOGIN "${address}" "${TEST_MAILBOX_PASSWORD}"`)).status).toBe('OK');
    for (const f of FOLDERS) {
      for (let i = 0; i < 5; i++) {
        expect((await wire.command(`APPEND "${f}" ($Seed)`, Buffer.from(`Subject: seed ${f} ${i}\r\n\r\nseed\r\n`))).status).toBe('OK');
      }
    }
    wire.close();
  }, 60_000);

  afterAll(async () => {
    await node?.close();
  });

  it('12 sessions on 4 folders for 4 s (every command kind at least once per session): no state violation, keywords announced before they are shown', async () => {
    const report = await runImapStress({
      host: '127.0.0.1', port, tls: true, user: address, password: TEST_MAILBOX_PASSWORD,
      folders: FOLDERS, sessions: 12, durationMs: Number(process.env.STRESS_MS ?? 4000), keywordPool: 60, weights: { LOGIN: 0.5 },
    });
    const summary = formatStressReport('Dizi', report);
    console.log(summary);
    expect(report.errors, summary).toEqual([]);
    expect(report.violations.slice(0, 10), summary).toEqual([]);
    for (const c of STRESS_COMMANDS) expect(report.commands[c].count, `${c}\n${summary}`).toBeGreaterThan(0);
  }, 30_000);
});
