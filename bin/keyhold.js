#!/usr/bin/env node
// `npx keyhold …`: Keyhold ships TypeScript sources, so the command registers tsx before
// loading the CLI. The imports are dynamic because static imports would run before the
// version check and register().
await import('./require-node.js');
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli.ts');
