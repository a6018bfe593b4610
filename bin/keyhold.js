#!/usr/bin/env node
// `npx keyhold …`: Keyhold ships TypeScript sources, so the command registers tsx before
// loading the CLI. The import is dynamic because static imports would run before register().
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
