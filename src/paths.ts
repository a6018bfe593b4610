// Where Keyhold's files are, for sources run by tsx (src/…) and the build (dist/…) alike:
// both sit one directory below the project root, so paths are taken from there.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

declare global {
  // Defined as true by the build (scripts/build.js); absent when the sources run.
  var KEYHOLD_BUILT: boolean | undefined;
}

/** The project root (package.json, views/, migrations/). */
export const rootDirectory = fileURLToPath(new URL('..', import.meta.url));

/** Running the build in dist/, not the sources. */
export const isBuilt = globalThis.KEYHOLD_BUILT === true;

/** The migrations as this process can import them: compiled in dist/ for the build. */
export const migrationDirectory = isBuilt ? path.join(rootDirectory, 'dist', 'migrations') : path.join(rootDirectory, 'migrations');
