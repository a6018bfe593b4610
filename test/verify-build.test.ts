// The published form of @keyhold/verify: its `build` (tsc) emits JavaScript and type
// declarations for every entry in package.json "exports", the emitted modules export what the
// sources export, and the only package they import at run time is jose (Koa and Express are
// met through their shapes, never imported). The other tests run the sources.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';

const packageDir = fileURLToPath(new URL('../packages/verify/', import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, { '@keyhold/source': string; types: string; default: string }>;
  dependencies: Record<string, string>;
};
// Inside the package, so that the emitted modules resolve jose as an installed copy would.
const outDir = mkdtempSync(path.join(packageDir, '.build-test-'));

test.before(async () => {
  const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
  await promisify(execFile)(process.execPath, [tsc, '-p', path.join(packageDir, 'tsconfig.json'), '--outDir', outDir]);
});
test.after.always(() => {
  rmSync(outDir, { recursive: true, force: true });
});

/** `./dist/x.js` → the same file in this test's output directory. */
const emitted = (target: string) => path.join(outDir, path.relative('dist', target));

test('the package is named and depends on jose alone', (t) => {
  t.is(manifest.name, '@keyhold/verify');
  t.deepEqual(Object.keys(manifest.dependencies), ['jose']);
});

for (const [entry, targets] of Object.entries(manifest.exports)) {
  test(`export "${entry}": emitted JavaScript and declarations match the sources`, async (t) => {
    t.true(existsSync(emitted(targets.types)), targets.types);
    t.true(existsSync(emitted(targets.default)), targets.default);
    const built = (await import(pathToFileURL(emitted(targets.default)).href)) as Record<string, unknown>;
    const source = (await import(pathToFileURL(path.join(packageDir, targets['@keyhold/source'])).href)) as Record<string, unknown>;
    t.deepEqual(Object.keys(built).sort(), Object.keys(source).sort());
    t.true(Object.keys(built).length > 0);
  });
}

test('the emitted modules import only jose and each other', (t) => {
  const files = readdirSync(outDir).filter((file) => file.endsWith('.js'));
  t.true(files.length > 0);
  for (const file of files) {
    const code = readFileSync(path.join(outDir, file), 'utf8');
    const specifiers = [...code.matchAll(/^(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((match) => match[1]!);
    for (const specifier of specifiers) t.true(specifier === 'jose' || specifier.startsWith('./'), `${file} imports ${specifier}`);
  }
});
