// DATA_DIR holds the embedded database, the generated development secret and the mail
// outbox (live links and codes): readable by the server's user only, as Postgres keeps its
// own data directory (0700, files 0600).
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `directory` (and missing parents) 0700. An existing one open to group or others
 * (made by an older Keyhold, or by hand) is closed to 0700, and `warn` says so.
 */
export function ensurePrivateDirectory(directory: string, warn?: (details: Record<string, unknown>, message: string) => void): void {
  mkdirSync(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const mode = statSync(directory).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  chmodSync(directory, PRIVATE_DIRECTORY_MODE);
  warn?.({ directory, previousMode: mode.toString(8) }, 'data directory was readable by other users; its mode is now 0700');
}

/** Files this process creates from now on are private (0600, directories 0700). */
export function keepNewFilesPrivate(): void {
  process.umask(process.umask() | 0o077);
}

/**
 * Closes every file and directory under `root` to group and others. PGlite's file system
 * layer gives the files it writes mode 0666 whatever the umask; its directory being 0700
 * already keeps them out of reach, and this makes the files themselves private too.
 */
export function restrictTree(root: string): void {
  const visit = (entry: string) => {
    const stats = statSync(entry, { throwIfNoEntry: false });
    if (!stats) return;
    if ((stats.mode & 0o077) !== 0) chmodSync(entry, stats.isDirectory() ? PRIVATE_DIRECTORY_MODE : PRIVATE_FILE_MODE);
    if (stats.isDirectory()) for (const name of readdirSync(entry)) visit(path.join(entry, name));
  };
  visit(root);
}
