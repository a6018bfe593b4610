// Builds Keyhold to plain JavaScript in dist/ with esbuild, so that `npm start` runs on
// Node alone, without a TypeScript compiler at run time: the server and the CLI as ESM
// bundles of the project's modules and of the packages they use (dynamic imports become
// chunks loaded on first use), and each migration as a module of its own (the migrator reads
// them from dist/migrations), all from one build so that they share one copy of each
// package. Run by `npm install` (prepare), by `npm run build`, and by `npm start` when the
// sources are newer than the build.
//
// Packages are bundled for start-up time: Node resolves, reads and links every file of an
// unbundled package on its own (about 800 files for the server, Kysely alone 257), which
// was most of a cold start. Left in node_modules (EXTERNAL): native addons and packages that
// find files of their own at run time.
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

// argon2 and esbuild load native binaries; PGlite (and its Kysely dialect) load their
// WebAssembly and data files beside the module; pino starts transports from files in a
// worker thread; nunjucks requires optional watchers. pg-native is pg's optional addon.
const EXTERNAL = ['argon2', 'esbuild', '@electric-sql/pglite', 'kysely-pglite-dialect', 'pino', 'pino-pretty', 'nunjucks', 'pg-native'];

// A package loaded on first use (`await import('nodemailer')`) stays in node_modules too: it
// is off the start path anyway, and Node gives a CommonJS package's named exports to import()
// where a split chunk of the bundle would give its `default` alone.
const lazyPackagesExternal = {
  name: 'lazy-packages-external',
  setup(build) {
    build.onResolve({ filter: /^[^./#]/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined));
  },
};

// Bundled CommonJS packages call require() for Node's modules, which an ES module lacks.
const REQUIRE_BANNER = "import { createRequire as __keyholdCreateRequire } from 'node:module'; const require = __keyholdCreateRequire(import.meta.url);";

export async function build() {
  // Loaded here: a start with a fresh build never loads esbuild.
  const esbuild = await import('esbuild');
  const staging = path.join(root, `.dist-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    const migrations = readdirSync(path.join(root, 'migrations')).filter((name) => name.endsWith('.ts'));
    await esbuild.build({
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      external: EXTERNAL,
      plugins: [lazyPackagesExternal],
      banner: { js: REQUIRE_BANNER },
      sourcemap: 'linked',
      logLevel: 'warning',
      legalComments: 'none',
      // Whitespace only (names and syntax stay as written): V8 keeps each module's source in
      // memory, and the bundle's indentation alone was about 10 MiB of the idle process.
      minifyWhitespace: true,
      entryPoints: {
        main: 'src/main.ts',
        cli: 'src/cli.ts',
        ...Object.fromEntries(migrations.map((name) => [`migrations/${name.replace(/\.ts$/, '')}`, `migrations/${name}`])),
      },
      outdir: staging,
      splitting: true,
      // Chunks beside the entry points: every module is then one level below the root, as in src/.
      chunkNames: '[name]-[hash]',
      // src/paths.ts tells a built module where it runs from.
      define: { 'globalThis.KEYHOLD_BUILT': 'true' },
    });
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
