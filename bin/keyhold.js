#!/usr/bin/env node
// `npx keyhold …`: the built CLI (dist/cli.js, plain JavaScript) when the build is current;
// otherwise, or when run with --conditions=@keyhold/source (the project's "use the
// TypeScript sources" condition), the sources through tsx. Imports are dynamic because
// static imports would run before the version check and the choice (and tsx's register()).
await import('./require-node.js');
const { isStale } = await import('../scripts/build.js');

const fromSource = process.execArgv.some((arg) => arg === '--conditions=@keyhold/source' || arg === '-C=@keyhold/source') || isStale();
if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
} else {
  await import('../dist/cli.js');
}
