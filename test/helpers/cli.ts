// The `keyhold` command as operators and scripts run it: the real bin shim in a child
// process with a clean environment, and the output contract every command keeps: on success
// exactly one JSON document on stdout; on failure exactly one `keyhold: …` line on stderr
// and a non-zero exit.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(repoRoot, 'bin', 'keyhold.js');

export interface CliRun {
  /** Exit code; 'timeout' when the command had to be killed. */
  code: number | 'timeout';
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * A clean environment, not the test process's (a stray DATABASE_URL, REDIS_URL or LOG_LEVEL
 * from the shell must not change what the command does), with fast hashing; `settings` add
 * to it or override it.
 */
export function cliEnv(settings: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    NODE_ENV: 'test',
    KEYHOLD_SECRET: 'cli-test-secret-0123456789abcdef0123456789abcdef',
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    ...settings,
  };
}

// Each run starts Node, tsx and the engine; a few at a time keeps a small CI machine from
// turning every test's timing into noise.
const maxParallel = 3;
let running = 0;
const waiting: Array<() => void> = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= maxParallel) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Runs `keyhold <args>` with `env` (see cliEnv), `stdin` as its input, `nodeArgs` before the shim (e.g. `--import`); killed after `timeoutMs`. */
export function runKeyhold(args: string[], env: Record<string, string>, options: { stdin?: string; timeoutMs?: number; nodeArgs?: string[] } = {}): Promise<CliRun> {
  return slot(
    () =>
      new Promise<CliRun>((resolve, reject) => {
        const started = performance.now();
        const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, ...args], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        let timedOut = false;
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs ?? 60_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code: timedOut ? 'timeout' : (code ?? -1), stdout, stderr, ms: performance.now() - started });
        });
        child.stdin.end(options.stdin ?? '');
      }),
  );
}

/** Asserts the success contract and returns the JSON document. */
export function succeeded<T = Record<string, any>>(t: ExecutionContext, run: CliRun): T {
  t.is(run.code, 0, `expected success, stderr: ${run.stderr}`);
  t.is(run.stderr, '');
  const lines = run.stdout.split('\n');
  t.is(lines.length, 2, 'one JSON line and nothing else on stdout');
  t.is(lines[1], '', 'stdout ends with a newline');
  return JSON.parse(run.stdout) as T;
}

/** Asserts the failure contract: exit `code`, one `keyhold: …` line matching `message`, no stack. */
export function failed(t: ExecutionContext, run: CliRun, code: 1 | 2, message: RegExp): void {
  t.is(run.code, code, `stdout: ${run.stdout} stderr: ${run.stderr}`);
  t.is(run.stdout, '');
  t.true(run.stderr.endsWith('\n'), 'stderr ends with a newline');
  const lines = run.stderr.slice(0, -1).split('\n');
  t.is(lines.length, 1, `exactly one line on stderr, got: ${run.stderr}`);
  t.true(lines[0]!.startsWith('keyhold: '), lines[0]);
  t.regex(lines[0]!, message);
  t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
}
