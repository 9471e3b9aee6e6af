// Prints pass / fail / skip per ImapTest script: `npx tsx libs/imap/test/run-imaptest.ts [name...]`.
import { loadScripts, runScript } from './imaptest-runner';
import { startTestImapServer } from './test-server';

async function main() {
  const server = await startTestImapServer();
  let n = 0;
  const only = process.argv.slice(2);
  const scripts = loadScripts('/work/shared/imaptest/tests').filter((s) => only.length === 0 || only.includes(s.name));
  const counts = { pass: 0, fail: 0, skip: 0 };
  for (const s of scripts) {
    const out = await runScript(s, {
      port: server.port,
      mailbox: 'testbox',
      newAccount: async () => {
        const username = `user${++n}@example.test`;
        await server.addAccount(username, 'secret');
        return { username, password: 'secret' };
      },
    });
    counts[out.result]++;
    console.log(`${out.result.padEnd(4)} ${out.name}${out.detail ? '  ' + out.detail : ''}`);
  }
  console.log(counts);
  await server.close();
}
void main();
