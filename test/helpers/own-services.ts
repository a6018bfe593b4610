// A Redis server and a Postgres cluster of a test's own, on free loopback ports in
// temporary directories, that the test may stop and start again at will (outage tests).
// The shared services on 6379 and 5432 are never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from './free-port.ts';

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms`);
}

export interface OwnRedis {
  url: string;
  /** Shuts Redis down (SIGTERM: it writes its append-only file and exits). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory: it reloads what it had persisted. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

/** redis-server with AOF persistence (appendfsync always), as the README tells operators to run it. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const directory = mkdtempSync(path.join(tmpdir(), 'keyhold-redis-'));
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const ping = async () => {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    probe.on('error', () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  };
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', directory, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'yes'];
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(ping, 'own redis-server');
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

// Debian's layout: /usr/lib/postgresql/<major>/bin; the newest installed major.
function postgresBin(): string {
  const majors = readdirSync('/usr/lib/postgresql').filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  if (majors.length === 0) throw new Error('no Postgres server binaries under /usr/lib/postgresql');
  return path.join('/usr/lib/postgresql', majors[0]!, 'bin');
}

export interface OwnPostgres {
  /** The cluster's postgres database, as superuser `postgres`. */
  adminUrl: string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** pg_ctl stop -m fast: connections are ended, the cluster shuts down cleanly. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** initdb + pg_ctl; as root, through the `postgres` system user (initdb refuses root). */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const port = await freePort();
  const directory = mkdtempSync(path.join(tmpdir(), 'keyhold-postgres-'));
  const dataDir = path.join(directory, 'data');
  const bin = postgresBin();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) throw new Error('running as root, but there is no `postgres` system user for initdb');
    chownSync(directory, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }
  // Asynchronous: the Keyhold under test runs in this process and must keep serving while
  // pg_ctl stops and starts the cluster.
  const run = (binary: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, binary), ...args]] : [path.join(bin, binary), args];
      const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      let output = '';
      child.stdout!.on('data', (chunk) => (output += chunk));
      child.stderr!.on('data', (chunk) => (output += chunk));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${binary} failed (${code}): ${output}`))));
    });
  await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = () => run('pg_ctl', ['-D', dataDir, '-o', options, '-l', path.join(directory, 'log'), '-w', '-t', '30', 'start']);
  const stop = () => run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
  await start();
  let running = true;
  return {
    adminUrl,
    async createDatabase(name) {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => {});
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
