// WORKERS > 1: this process is the cluster's primary. It serves nothing itself and loads
// none of Keyhold (only the configuration and the logger); it forks WORKERS processes that
// each build a whole node and listen on the same port (node:cluster hands them the
// connections), replaces a worker that dies after it has started, and on SIGTERM/SIGINT
// passes the signal on and waits for every worker's graceful shutdown (each ends its
// requests in flight within SHUTDOWN_TIMEOUT) before it exits.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '#src/config.ts';

// A worker that dies this soon after it started listening is failing, not crashing once:
// the primary stops rather than fork it again and again.
const MIN_UPTIME_MS = 5_000;

export function runPrimary(config: Pick<Config, 'WORKERS' | 'SHUTDOWN_TIMEOUT'>, logger: Logger): void {
  let stopping = false;
  const listeningSince = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => listeningSince.set(worker, Date.now()));
    return worker;
  };

  const stopAll = (signal: NodeJS.Signals, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'stopping workers');
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    // Past its own SHUTDOWN_TIMEOUT a worker has closed everything; a stuck one is killed.
    const killer = setTimeout(() => workers.forEach((worker) => worker.process.kill('SIGKILL')), (config.SHUTDOWN_TIMEOUT + 5) * 1000);
    killer.unref();
    let remaining = workers.length;
    if (remaining === 0) process.exit(exitCode);
    for (const worker of workers) {
      worker.once('exit', () => {
        remaining -= 1;
        if (remaining === 0) process.exit(exitCode);
      });
      worker.process.kill(signal);
    }
  };

  cluster.on('exit', (worker, code, signal) => {
    const since = listeningSince.get(worker);
    listeningSince.delete(worker);
    if (stopping) return;
    if (since === undefined || Date.now() - since < MIN_UPTIME_MS) {
      logger.fatal({ pid: worker.process.pid, code, signal }, 'a worker failed to start or died at once: stopping');
      stopAll('SIGTERM', 1);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died: starting another');
    fork();
  });

  for (let index = 0; index < config.WORKERS; index++) fork();
  logger.info({ workers: config.WORKERS, pid: process.pid }, 'cluster primary started');
  process.once('SIGTERM', () => stopAll('SIGTERM', 0));
  process.once('SIGINT', () => stopAll('SIGINT', 0));
}
