// Builds Keyhold to plain JavaScript in dist/ with esbuild, so that `npm start` runs on
// Node alone, without a TypeScript compiler at run time: the server and the CLI as ESM
// bundles of the project's own modules (packages stay in node_modules, imported as usual;
// dynamic imports become chunks loaded on first use), and each migration as a module of its
// own (the migrator reads them from dist/migrations). Run by `npm install` (prepare), by
// `npm run build`, and by `npm start` when the sources are newer than the build.
//
// The build goes to a directory of its own and replaces dist/ in one rename, so a process
// starting meanwhile never imports half-written files.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const dist = path.join(root, 'dist');
const SOURCES = ['src', 'migrations', 'package.json', 'scripts/build.js'];

function newestIn(entry) {
  const stat = statSync(entry, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestIn(path.join(entry, name)));
  return newest;
}

/** Whether dist/ is missing or older than any source. */
export function isStale() {
  const built = statSync(path.join(dist, 'main.js'), { throwIfNoEntry: false });
  if (!built) return true;
  return SOURCES.some((source) => newestIn(path.join(root, source)) > built.mtimeMs);
}

export async function build() {
  // Loaded here: a start with a fresh build never loads esbuild.
  const esbuild = await import('esbuild');
  const staging = path.join(root, `.dist-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    const common = { absWorkingDir: root, bundle: true, platform: 'node', format: 'esm', target: 'node22', packages: 'external', sourcemap: 'linked', logLevel: 'warning', legalComments: 'none' };
    await esbuild.build({
      ...common,
      entryPoints: { main: 'src/main.ts', cli: 'src/cli.ts' },
      outdir: staging,
      splitting: true,
      // Chunks beside the entry points: every module is then one level below the root, as in src/.
      chunkNames: '[name]-[hash]',
      // src/paths.ts tells a built module where it runs from.
      define: { 'globalThis.KEYHOLD_BUILT': 'true' },
    });
    const migrations = readdirSync(path.join(root, 'migrations')).filter((name) => name.endsWith('.ts'));
    await esbuild.build({ ...common, entryPoints: migrations.map((name) => `migrations/${name}`), outdir: path.join(staging, 'migrations'), sourcemap: false });
    rmSync(dist, { recursive: true, force: true });
    renameSync(staging, dist);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

// `node scripts/build.js`: build now.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  await build();
  process.stderr.write(`keyhold: built dist/ in ${Math.round(performance.now() - started)} ms\n`);
}
