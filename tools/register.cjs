// Runs TypeScript sources directly (SWC keeps decorator metadata, which esbuild-based loaders drop).
process.env.SWC_NODE_PROJECT ??= require('node:path').join(__dirname, '..', 'tsconfig.base.json');
require('@swc-node/register');
