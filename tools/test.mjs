// The test command: lint, typecheck, then every test file; ends with one line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0' };
let passed = 0;
let failed = 0;

function step(name, cmd, args) {
  const started = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
  const ok = r.status === 0;
  console.log(`=== ${name} ${ok ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ok;
}

// `npm ci` refuses a lock file that lacks a workspace: catch that here rather than in CI.
{
  const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8'));
  const workspaces = ['apps', 'libs'].flatMap((d) => readdirSync(`${root}${d}`).map((n) => `${d}/${n}`)).filter((w) => existsSync(`${root}${w}/package.json`));
  const missing = workspaces.filter((w) => !lock.packages?.[w]);
  console.log(`\n=== lock file: ${missing.length ? `FAILED, run npm install (missing ${missing.join(', ')})` : 'lists every workspace'}`);
  if (missing.length) failed++;
  else passed++;
}

for (const [name, script] of [['lint', 'lint'], ['typecheck', 'typecheck']]) {
  if (step(name, 'npm', ['run', '-s', script])) passed++;
  else failed++;
}

mkdirSync(`${root}.dizi`, { recursive: true });
const report = `${root}.dizi/vitest-report.json`;
rmSync(report, { force: true });
const extra = process.argv.slice(2);
const ok = step('tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]);
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests;
  failed += json.numFailedTests;
  // A file that fails to load has no tests to count: count it once so it cannot hide.
  for (const file of json.testResults) if (file.status === 'failed' && file.assertionResults.length === 0) failed++;
} catch {
  failed++;
}
if (!ok && failed === 0) failed++;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
