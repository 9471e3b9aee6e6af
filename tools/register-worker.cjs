// TypeScript for worker threads: each source file through SWC's transform, with the options tools/register.cjs takes
// from tsconfig.base.json, and nothing else. @swc-node/register loads the TypeScript compiler to read that tsconfig:
// some 22 MB of heap in every worker that requires it, which each of the worker's full garbage collections then
// marks again (a spool summary worker collects several times a second under load). `@dizi/*` imports resolve
// through the workspace packages' exports, as they do for Node without the hook.
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

if (!Module._extensions['.ts']) {
  Module._extensions['.ts'] = function compileTypeScript(module, filename) {
    const { code } = transformSync(readFileSync(filename, 'utf8'), {
      filename,
      swcrc: false,
      configFile: false,
      module: { type: 'commonjs' },
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        keepClassNames: true,
      },
    });
    module._compile(code, filename);
  };
}
