import nx from '@nx/eslint-plugin';

const libs = (...types) => types.map((t) => `type:${t}`);

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/node_modules', '**/dist', '**/.dizi', '**/.nx', '**/.next', 'coverage'] },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          // Who may import whom: the map of ../shared/STYLE.md, checked on every lint.
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: libs('domain', 'contracts', 'config', 'adapter', 'service', 'protocol', 'store', 'mime', 'testing') },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: libs('domain') },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: libs('domain', 'contracts') },
            { sourceTag: 'type:config', onlyDependOnLibsWithTags: libs('domain', 'config') },
            { sourceTag: 'type:mime', onlyDependOnLibsWithTags: libs('domain', 'mime') },
            { sourceTag: 'type:store', onlyDependOnLibsWithTags: libs('domain', 'contracts', 'config', 'mime', 'store') },
            {
              sourceTag: 'type:protocol',
              onlyDependOnLibsWithTags: libs('domain', 'contracts', 'config', 'mime', 'store', 'protocol'),
              bannedExternalImports: ['pg', 'ioredis', 'typeorm', '@aws-sdk/*', 'bullmq'],
            },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: libs('domain', 'contracts', 'config', 'adapter') },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: libs('domain', 'contracts', 'config', 'adapter', 'service', 'protocol', 'store', 'mime') },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: libs('domain', 'contracts', 'config', 'adapter', 'service', 'protocol', 'store', 'mime', 'testing') },
            { sourceTag: 'scope:portal', notDependOnLibsWithTags: ['scope:server'] },
          ],
        },
      ],
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
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
