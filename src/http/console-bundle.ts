// Builds the admin console (console/, Preact) into one JavaScript and one CSS file with
// esbuild, in memory. File names carry a content hash, so the files can be cached for good
// and a new release is fetched at once.
import path from 'node:path';
import { rootDirectory } from '#src/paths.ts';

export const consoleSourceDirectory = path.join(rootDirectory, 'console');

export interface ConsoleAsset {
  type: string;
  body: Buffer;
}

export interface ConsoleBundle {
  /** By file name (`main-<hash>.js`, `main-<hash>.css`). */
  assets: Map<string, ConsoleAsset>;
  script: string;
  stylesheet: string;
}

export async function buildConsoleBundle(): Promise<ConsoleBundle> {
  // Loaded on the first request for the console: a server nobody opens it on never loads esbuild.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path.join(consoleSourceDirectory, 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(consoleSourceDirectory, 'tsconfig.json'),
    entryNames: '[name]-[hash]',
    outdir: '/console-build',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets = new Map<string, ConsoleAsset>();
  let script = '';
  let stylesheet = '';
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    if (name.endsWith('.js')) {
      script = name;
      assets.set(name, { type: 'application/javascript; charset=utf-8', body: Buffer.from(file.contents) });
    } else if (name.endsWith('.css')) {
      stylesheet = name;
      assets.set(name, { type: 'text/css; charset=utf-8', body: Buffer.from(file.contents) });
    }
  }
  if (!script || !stylesheet) throw new Error('console build produced no script or stylesheet');
  return { assets, script, stylesheet };
}
