// Thin launcher so `npm start` needs no build step: TypeScript runs through SWC (tools/register.cjs).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const child = spawn(process.execPath, ['-r', `${root}tools/register.cjs`, `${root}tools/start.ts`], { stdio: 'inherit', cwd: root });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 1));
