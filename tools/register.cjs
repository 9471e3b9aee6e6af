// Runs TypeScript sources directly: each .ts file through SWC's transform, which keeps decorator metadata (esbuild-based
// loaders drop it), with the compiler options of tsconfig.base.json written out below. Not @swc-node/register: to read
// tsconfig it loads the TypeScript compiler, some 22 MB of heap in every process and worker thread that requires it,
// which each of their full garbage collections then marks again. `@dizi/*` imports resolve through the workspace
// packages' exports (node_modules/@dizi), as they do for Node without any hook. Stack traces point into the TypeScript
// when Node's source-map support is on (`NODE_OPTIONS=--enable-source-maps`): only then are maps emitted and kept.
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

if (!Module._extensions['.ts']) {
  const sourceMaps = process.sourceMapsEnabled ? 'inline' : false;
  Module._extensions['.ts'] = function compileTypeScript(module, filename) {
    const { code } = transformSync(readFileSync(filename, 'utf8'), {
      filename,
      swcrc: false,
      configFile: false,
      sourceMaps,
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
