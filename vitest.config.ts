import { defineConfig } from 'vitest/config';
import swc from 'unplugin-swc';
import { resolve } from 'node:path';

const lib = (name: string) => ({ find: new RegExp(`^@dizi/${name}/(.*)$`), replacement: resolve(__dirname, `libs/${name}/src/$1`) });

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias: ['domain', 'contracts', 'config', 'db', 'auth', 'testing', 'mail-store', 'mime', 'smtp', 'delivery', 'imap', 'jmap', 'pop3', 'listener', 'filters', 'sieve', 'billing'].map(lib) },
  test: {
    include: ['apps/*/src/**/*.spec.ts', 'apps/*/test/**/*.spec.ts', 'libs/*/src/**/*.spec.ts', 'libs/*/test/**/*.spec.ts', 'apps/portal/e2e/**/*.spec.ts', 'apps/portal/lib/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
