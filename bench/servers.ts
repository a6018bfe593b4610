// The servers the bench measures: a bare node:http reference, Keyhold in this process (as
// the tests build it, but with production settings), and Keyhold or the reference as a
// child process for start-up time and idle memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '#src/config.ts';
import { createKeyhold, type Keyhold } from '#src/keyhold.ts';
import { createLogger } from '#src/logger.ts';

export const BENCH_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';

// Same socket settings as src/server.ts, so the in-process server behaves like `npm start`.
function applyServerTimeouts(server: Server): void {
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
}

async function listenOnLoopback(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface RunningHttp {
  url: string;
  stop(): Promise<void>;
}

export const REFERENCE_BODY = JSON.stringify({ status: 'ok' });

/** The reference: a bare node:http server answering a tiny JSON body. */
export async function startReferenceServer(): Promise<RunningHttp> {
  const body = Buffer.from(REFERENCE_BODY);
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  applyServerTimeouts(server);
  const port = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
}

export interface InProcessKeyhold extends RunningHttp {
  keyhold: Keyhold;
}

/**
 * Keyhold served from this process on a random loopback port, built exactly as `npm start`
 * builds it, with every setting at its default (production argon2 parameters included)
 * except where it runs: the given database, Redis and prefix, the loopback issuer.
 */
export async function startKeyholdInProcess(options: { databaseUrl: string; redisUrl: string; redisPrefix: string; dataDir: string }): Promise<InProcessKeyhold> {
  // Bound first, so that the issuer (which must be known to build the engine) has the real port.
  const server = createServer();
  applyServerTimeouts(server);
  const port = await listenOnLoopback(server);
  const url = `http://127.0.0.1:${port}`;
  let keyhold: Keyhold;
  try {
    const config = loadConfig({
      NODE_ENV: 'production',
      // Loopback http: the production settings otherwise, measured without TLS.
      ALLOW_INSECURE_ISSUER: 'true',
      ISSUER: url,
      KEYHOLD_SECRET: BENCH_SECRET,
      DATA_DIR: options.dataDir,
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      REDIS_PREFIX: options.redisPrefix,
      LOG_LEVEL: 'silent',
    });
    keyhold = await createKeyhold(config, createLogger(config.LOG_LEVEL));
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  server.on('request', keyhold.app.callback());
  let stopping: Promise<void> | undefined;
  return {
    url,
    keyhold,
    stop: () =>
      (stopping ??= (async () => {
        await closeServer(server);
        await keyhold.close();
      })()),
  };
}

/** A loopback port that is free now (for a child process to bind). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await closeServer(server);
  return port;
}

export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ChildRun {
  pid: number;
  /** Spawn to the first 200 from the readiness URL. */
  startMs: number;
  /** VmRSS after `idleMs` of idling once ready. */
  idleRssKiB: number;
}

const liveChildren = new Set<ChildProcess>();

/** Kills whatever child is still running (for exit handlers; synchronous). */
export function killChildrenNow(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  liveChildren.delete(child);
}

/**
 * Spawns a server process, polls `readyPath` until it answers 200 (the cold start), waits
 * `idleMs` without sending anything, reads its RSS, and stops it (SIGTERM, then SIGKILL).
 */
export async function runChild(options: { args: string[]; env: NodeJS.ProcessEnv; cwd: string; port: number; readyPath: string; idleMs: number; timeoutMs?: number }): Promise<ChildRun> {
  const url = `http://127.0.0.1:${options.port}${options.readyPath}`;
  const started = performance.now();
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'ignore', 'pipe'] });
  liveChildren.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = started + (options.timeoutMs ?? 30_000);
    let startMs: number | undefined;
    while (startMs === undefined) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`child exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr}`);
      if (performance.now() > deadline) throw new Error(`child not ready after ${options.timeoutMs ?? 30_000} ms:\n${stderr}`);
      try {
        const response = await fetch(url);
        await response.arrayBuffer();
        if (response.status === 200) startMs = performance.now() - started;
      } catch {
        // Not listening yet.
      }
      if (startMs === undefined) await sleep(10);
    }
    await sleep(options.idleMs);
    const idleRssKiB = rssKiB(child.pid!);
    return { pid: child.pid!, startMs, idleRssKiB };
  } finally {
    await stopChild(child, exited);
  }
}

export interface SpawnedServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Spawns a server process and waits until `readyPath` answers 200; it runs until stop(). */
export async function spawnServer(options: { args: string[]; env: NodeJS.ProcessEnv; cwd: string; port: number; readyPath: string; timeoutMs?: number }): Promise<SpawnedServer> {
  const url = `http://127.0.0.1:${options.port}`;
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'ignore', 'pipe'] });
  liveChildren.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = () => stopChild(child, exited);
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      liveChildren.delete(child);
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr}`);
    }
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`server not ready after ${options.timeoutMs ?? 60_000} ms:\n${stderr}`);
    }
    try {
      const response = await fetch(`${url}${options.readyPath}`);
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    await sleep(20);
  }
  return { url, pid: child.pid!, stop };
}

/** Runs a command to its end: wall time from spawn to exit, exit code and output. */
export async function timeCommand(options: { args: string[]; env: NodeJS.ProcessEnv; cwd: string }): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  liveChildren.delete(child);
  return { ms: performance.now() - started, code, stdout, stderr };
}
