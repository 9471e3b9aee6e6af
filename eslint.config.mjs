import nx from '@nx/eslint-plugin';

const libs = (...types) => types.map((t) => `type:${t}`);

/**
 * Who may import whom: the map of ../shared/STYLE.md, checked on every lint. `withTesting` adds the testing lib to
 * every layer: a lib's own tests (libs/<lib>/test) run against real PostgreSQL, Redis and daemons through it.
 */
const boundaries = (withTesting = false) => {
  const may = (...types) => libs(...types, ...(withTesting ? ['testing'] : []));
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: libs('domain', 'contracts', 'config', 'adapter', 'service', 'protocol', 'store', 'mime', 'testing') },
      { sourceTag: 'type:domain', onlyDependOnLibsWithTags: may('domain') },
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: may('domain', 'contracts') },
      { sourceTag: 'type:config', onlyDependOnLibsWithTags: may('domain', 'config') },
      { sourceTag: 'type:mime', onlyDependOnLibsWithTags: may('domain', 'mime') },
      { sourceTag: 'type:store', onlyDependOnLibsWithTags: may('domain', 'contracts', 'config', 'mime', 'store') },
      {
        sourceTag: 'type:protocol',
        onlyDependOnLibsWithTags: may('domain', 'contracts', 'config', 'mime', 'store', 'protocol'),
        bannedExternalImports: ['pg', 'ioredis', 'typeorm', '@aws-sdk/*', 'bullmq'],
      },
      { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: may('domain', 'contracts', 'config', 'adapter') },
      { sourceTag: 'type:service', onlyDependOnLibsWithTags: may('domain', 'contracts', 'config', 'adapter', 'service', 'protocol', 'store', 'mime') },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: libs('domain', 'contracts', 'config', 'adapter', 'service', 'protocol', 'store', 'mime', 'testing') },
      { sourceTag: 'scope:portal', notDependOnLibsWithTags: ['scope:server'] },
      // The portal talks to the API over HTTP: it shares only types, contracts and its config schema with the server.
      { sourceTag: 'scope:portal', onlyDependOnLibsWithTags: may('domain', 'contracts', 'config') },
    ],
  };
};

/** The portal's browser tests start the whole stack (the API process, a test database): the portal's own code stays bound. */
const portalTests = () => {
  const b = boundaries(true);
  return { ...b, depConstraints: b.depConstraints.filter((c) => c.sourceTag !== 'scope:portal') };
};

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/node_modules', '**/dist', '**/.dizi', '**/.nx', '**/.next', 'coverage'] },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries()],
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // A lib's own tests may use the testing lib (its code may not).
    files: ['libs/*/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries(true)] },
  },
  {
    files: ['apps/portal/e2e/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', portalTests()] },
  },
  {
    // Delivery logic runs against its ports (libs/delivery/src/ports); only adapters/ and compose.ts know the drivers.
    // system-notices.ts is the PostgreSQL side of MailboxNotices, still beside the logic (another change is editing it).
    files: ['libs/delivery/src/{local,outbound,queue,ports,submission}/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/delivery/src/local/system-notices.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'pg', message: 'SQL lives in libs/delivery/src/adapters/postgres; take a port (SpoolStore, DirectoryStore).' }],
        patterns: [
          { group: ['**/adapters/*', '**/adapters/**'], message: 'Logic takes ports; adapters are chosen in compose.ts (or by a test).' },
          { group: ['@aws-sdk/*'], message: 'Blob storage is a mail-store port.' },
        ],
      }],
    },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
