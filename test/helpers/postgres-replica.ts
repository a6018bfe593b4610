// A real Postgres primary with a streaming hot standby, for tests: `initdb` + `pg_ctl` on a
// free port, `pg_basebackup -R` into a second data directory, the standby started on
// another port. Both in one temporary directory, removed by destroy(); the shared Postgres
// on 5432 is never touched. As root, the binaries run as the `postgres` system user
// (initdb refuses root).
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.ts';

// The server binaries (initdb, pg_ctl) are not on PATH on Debian; pg_config knows where they are.
const PG_BIN = process.env.PG_BIN ?? (spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' }).stdout?.trim() || '/usr/lib/postgresql/15/bin');

export interface StreamingReplica {
  /** A URL of the primary for `database`. */
  primaryUrl(database: string): string;
  /** A URL of the standby for `database`. */
  standbyUrl(database: string): string;
  /** Creates a database on the primary (it reaches the standby by replication) and waits for it there. */
  createDatabase(name: string): Promise<void>;
  /** Runs one SQL statement on the standby's `database` (e.g. pg_wal_replay_pause()). */
  onStandby<T extends Record<string, unknown>>(database: string, text: string): Promise<T[]>;
  /** Waits until the standby has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  stopStandby(): void;
  destroy(): Promise<void>;
}

async function query<T extends Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

// A crashed test run must not leave postgres servers behind (pg_ctl daemonizes them).
const running = new Set<() => void>();
process.once('exit', () => {
  for (const stop of running) stop();
});

export async function startStreamingReplica(): Promise<StreamingReplica> {
  const directory = mkdtempSync(path.join(tmpdir(), 'keyhold-pg-replica-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(directory, uid, gid);
  }
  const run = (binary: string, args: string[]) => {
    const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(PG_BIN, binary), ...args]] : [path.join(PG_BIN, binary), args];
    const result = spawnSync(command, commandArgs, { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${binary} failed: ${result.stderr || result.stdout}`);
  };
  const primaryDir = path.join(directory, 'primary');
  const standbyDir = path.join(directory, 'standby');
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const options = (port: number) => `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`;
  const started: string[] = [];
  const stop = (dataDir: string) => {
    if (!started.includes(dataDir)) return;
    run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    started.splice(started.indexOf(dataDir), 1);
  };
  const destroy = async () => {
    running.delete(stopAll);
    for (const dataDir of [...started]) {
      try {
        stop(dataDir);
      } catch {
        // Already gone; the directory goes below either way.
      }
    }
    rmSync(directory, { recursive: true, force: true });
  };
  const stopAll = () => {
    for (const dataDir of [...started]) {
      const stop = [path.join(PG_BIN, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', 'stop'];
      if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', ...stop]);
      else spawnSync(stop[0]!, stop.slice(1));
    }
    rmSync(directory, { recursive: true, force: true });
  };
  running.add(stopAll);
  const primaryUrl = (database: string) => `postgres://postgres@127.0.0.1:${primaryPort}/${database}`;
  const standbyUrl = (database: string) => `postgres://postgres@127.0.0.1:${standbyPort}/${database}`;
  try {
    // initdb -A trust also trusts replication connections from loopback.
    run('initdb', ['-D', primaryDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    run('pg_ctl', ['-D', primaryDir, '-o', options(primaryPort), '-l', path.join(directory, 'primary.log'), '-w', '-t', '30', 'start']);
    started.push(primaryDir);
    run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standbyDir, '-R', '-X', 'stream', '--no-sync']);
    run('pg_ctl', ['-D', standbyDir, '-o', options(standbyPort), '-l', path.join(directory, 'standby.log'), '-w', '-t', '30', 'start']);
    started.push(standbyDir);
  } catch (error) {
    await destroy();
    throw error;
  }

  const caughtUp = async () => {
    const [{ lsn }] = await query<{ lsn: string }>(primaryUrl('postgres'), 'select pg_current_wal_lsn()::text as lsn');
    for (let tries = 0; tries < 300; tries += 1) {
      const [{ done }] = await query<{ done: boolean }>(standbyUrl('postgres'), `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn as done`);
      if (done) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the standby did not catch up');
  };
  return {
    primaryUrl,
    standbyUrl,
    async createDatabase(name) {
      await query(primaryUrl('postgres'), `CREATE DATABASE ${name}`);
      await caughtUp();
    },
    onStandby: (database, text) => query(standbyUrl(database), text),
    caughtUp,
    stopStandby: () => stop(standbyDir),
    destroy,
  };
}
