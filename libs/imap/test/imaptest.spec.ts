// Runs every ImapTest script against the server; the set of passing scripts may only grow (imaptest-passing.json).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScripts, runScript, type ScriptOutcome } from './imaptest-runner';
import { startTestImapServer, type TestImapServer } from './test-server';

const TESTS = '/work/shared/imaptest/tests';
const RATCHET = join(__dirname, 'imaptest-passing.json');

describe('ImapTest scripted compliance tests', () => {
  let server: TestImapServer;
  beforeAll(async () => {
    server = await startTestImapServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('passes at least every script that passed before', async () => {
    let n = 0;
    const outcomes: ScriptOutcome[] = [];
    for (const script of loadScripts(TESTS)) {
      outcomes.push(await runScript(script, {
        port: server.port,
        mailbox: 'testbox',
        newAccount: async () => {
          const username = `user${++n}@example.test`;
          await server.addAccount(username, 'secret');
          return { username, password: 'secret' };
        },
      }));
    }
    const passing = outcomes.filter((o) => o.result === 'pass').map((o) => o.name);
    const counts = { pass: passing.length, fail: outcomes.filter((o) => o.result === 'fail').length, skip: outcomes.filter((o) => o.result === 'skip').length };
    console.log(`imaptest: ${JSON.stringify(counts)}\n${outcomes.map((o) => `${o.result.padEnd(4)} ${o.name}${o.result === 'fail' ? '  ' + (o.detail ?? '').split('\n')[0].slice(0, 200) : ''}`).join('\n')}`);
    const before: string[] = existsSync(RATCHET) ? JSON.parse(readFileSync(RATCHET, 'utf8')) : [];
    const lost = before.filter((name) => !passing.includes(name));
    expect(lost).toEqual([]);
    // Gains are recorded so that they can never be lost again.
    if (passing.length > before.length) writeFileSync(RATCHET, JSON.stringify(passing, null, 2) + '\n');
  }, 300_000);
});
