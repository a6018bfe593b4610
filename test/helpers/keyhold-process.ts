// Keyhold as a person runs it: `npm start` (src/main.ts) in its own process, with a clean
// environment and a working directory of the caller's choosing, on a free loopback port.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface KeyholdProcess {
  child: ChildProcess;
  issuer: string;
  output(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `npm start`'s entry with `env` (PORT and ISSUER on a free port unless given) and
 * waits until /readyz answers 200. `command` is what runs it: `npm start` itself, or node
 * with tsx (cheaper, the same code).
 */
export async function startKeyholdProcess(env: Record<string, string>, options: { cwd?: string; npm?: boolean } = {}): Promise<KeyholdProcess> {
  const port = env.PORT ?? String(await freePort());
  const issuer = env.ISSUER ?? `http://localhost:${port}`;
  const fullEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: port, ISSUER: issuer, HOST: '127.0.0.1', ...env };
  const child = options.npm
    ? spawn('npm', ['start', '--silent'], { cwd: options.cwd ?? repoRoot, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: options.cwd ?? repoRoot, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // npm runs the server as a child: signal the whole group it leads.
    if (options.npm && child.pid) process.kill(-child.pid, 'SIGTERM');
    else child.kill('SIGTERM');
    await exited;
  };
  for (let attempt = 0; attempt < 1200; attempt++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return { child, issuer, output: () => output, stop };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`keyhold exited with ${child.exitCode}: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`keyhold not ready after 120 s: ${output}`);
}
