// An old Node is refused with one line before anything else loads, by the CLI and `npm start`
// alike. The old version is simulated (a preload rewrites process.versions.node), so the
// check itself runs on the Node it is meant to refuse.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function runAs(version: string, args: string[]) {
  const directory = mkdtempSync(path.join(tmpdir(), 'keyhold-node-version-'));
  const preload = path.join(directory, 'old-node.cjs');
  writeFileSync(preload, `Object.defineProperty(process.versions, 'node', { value: ${JSON.stringify(version)} });\nObject.defineProperty(process, 'version', { value: 'v${version}' });\n`);
  try {
    return spawnSync(process.execPath, ['--require', preload, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test' }, encoding: 'utf8', timeout: 60_000 });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

for (const [name, args] of [
  ['the CLI', ['bin/keyhold.js', 'help']],
  ['npm start', ['--import', 'tsx', 'src/main.ts']],
] as const) {
  test(`${name} refuses Node 20 and 22.11 with one line`, (t) => {
    for (const version of ['20.19.0', '22.11.0']) {
      const run = runAs(version, [...args]);
      t.is(run.status, 1);
      t.is(run.stderr, `keyhold: Node.js 22.12 or later is required, this is v${version} (https://nodejs.org)\n`);
      t.is(run.stdout, '');
    }
  });
}

test('Node 22.12 passes the check', (t) => {
  const run = runAs('22.12.0', ['bin/keyhold.js', 'help']);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /keyhold/);
});
