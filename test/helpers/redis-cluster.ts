// A real Redis Cluster for tests: `redis-server --cluster-enabled yes` on free loopback
// ports in a temporary directory, joined with `redis-cli --cluster create`. Nothing is
// persisted; stop() kills every process and removes the directory. The shared Redis on
// 6379 is never touched.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

export interface ClusterNodeProcess {
  port: number;
  process: ChildProcess;
}

export interface TestRedisCluster {
  nodes: ClusterNodeProcess[];
  /** `127.0.0.1:P1,127.0.0.1:P2,…`, for REDIS_CLUSTER_NODES. */
  seeds: string;
  /** The ports of the nodes that currently serve slots (masters), as the cluster reports. */
  masterPorts(): Promise<number[]>;
  /** Kills one node abruptly (SIGKILL), as a crash would. */
  kill(port: number): Promise<void>;
  /**
   * Waits until every live node reports cluster_state:ok and the cluster has `masters`
   * healthy masters, none of them `gone` (a killed node whose replica must take over).
   */
  waitUntilHealthy(masters: number, gone?: number): Promise<void>;
  /** A direct connection to one node (the caller quits it). */
  connect(port: number): Redis;
  stop(): Promise<void>;
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10000))) {
      taken.add(port);
      taken.add(port + 10000);
      return port;
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}

const alive = new Set<ChildProcess>();
// A crashed test run must not leave redis-servers behind.
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

export async function startRedisCluster(options: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {}): Promise<TestRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  const directory = mkdtempSync(path.join(tmpdir(), 'keyhold-redis-cluster-'));
  const nodes: ClusterNodeProcess[] = [];
  const clients: Redis[] = [];
  const connect = (port: number) => {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    client.on('error', () => {});
    return client;
  };
  const query = async <T>(port: number, command: (client: Redis) => Promise<T>): Promise<T> => {
    const client = connect(port);
    try {
      await client.connect();
      return await command(client);
    } finally {
      client.disconnect();
    }
  };

  const stop = async () => {
    await Promise.allSettled(clients.map((client) => client.quit()));
    await Promise.all(
      nodes.map(async (node) => {
        if (node.process.exitCode !== null || node.process.signalCode !== null) return;
        const exited = new Promise((resolve) => node.process.once('exit', resolve));
        node.process.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(directory, { recursive: true, force: true });
  };

  try {
    const taken = new Set<number>();
    for (let index = 0; index < masters * (1 + replicas); index += 1) {
      const port = await freeClusterPort(taken);
      const child = spawn('redis-server', [
        '--cluster-enabled', 'yes',
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--cluster-config-file', path.join(directory, `nodes-${port}.conf`),
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2000),
        '--dir', directory,
        '--save', '',
        '--appendonly', 'no',
        '--daemonize', 'no',
      ], { stdio: 'ignore' });
      alive.add(child);
      child.once('exit', () => alive.delete(child));
      nodes.push({ port, process: child });
    }
    await Promise.all(nodes.map((node) => waitFor(`redis-server on ${node.port}`, () => query(node.port, async (client) => ((await client.ping()) === 'PONG' ? true : undefined)), 10_000)));
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });

    const masterPorts = async () => {
      for (const node of nodes) {
        if (node.process.exitCode !== null || node.process.signalCode !== null) continue;
        const text = await query(node.port, (client) => client.call('CLUSTER', 'NODES') as Promise<string>).catch(() => undefined);
        if (text === undefined) continue;
        return text
          .split('\n')
          .filter((line) => /\bmaster\b/.test(line) && !/\bfail\b/.test(line) && line.split(' ').length > 8)
          .map((line) => Number(/:(\d+)@/.exec(line)![1]));
      }
      throw new Error('no live cluster node');
    };
    const waitUntilHealthy = async (expectedMasters: number, gone?: number) => {
      await waitFor('cluster_state:ok', async () => {
        const live = nodes.filter((node) => node.process.exitCode === null && node.process.signalCode === null);
        for (const node of live) {
          const info = await query(node.port, (client) => client.call('CLUSTER', 'INFO') as Promise<string>);
          if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return undefined;
        }
        const current = await masterPorts();
        return current.length === expectedMasters && (gone === undefined || !current.includes(gone)) ? true : undefined;
      }, 30_000);
    };
    await waitUntilHealthy(masters);
    return {
      nodes,
      seeds: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
      masterPorts,
      async kill(port) {
        const node = nodes.find((candidate) => candidate.port === port)!;
        const exited = new Promise((resolve) => node.process.once('exit', resolve));
        node.process.kill('SIGKILL');
        await exited;
      },
      waitUntilHealthy,
      connect(port) {
        const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
        client.on('error', () => {});
        clients.push(client);
        return client;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
