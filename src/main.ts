// `npm start`: read the configuration, build Keyhold, serve until told to stop. With
// WORKERS > 1 this process becomes the cluster's primary (src/cluster.ts) and each worker
// runs the rest of this file.
import '../bin/require-node.js';
import cluster from 'node:cluster';
import { ConfigError, loadConfig, loadEnvFile, settingWarnings, type Config } from '#src/config.ts';
import { createServerLogger } from '#src/logger.ts';

let config: Config;
let envFile: string | undefined;
try {
  envFile = loadEnvFile();
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`keyhold: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const rootLogger = await createServerLogger(config);
if (cluster.isPrimary) for (const warning of settingWarnings()) rootLogger.warn(warning);
// The embedded database belongs to one process: a cluster needs Postgres.
const workers = config.DATABASE_URL ? config.WORKERS : 1;
if (config.WORKERS > 1 && workers === 1) rootLogger.warn({ WORKERS: config.WORKERS }, 'WORKERS > 1 needs DATABASE_URL (the embedded database is single-process): running one process');

if (workers > 1 && cluster.isPrimary) {
  const { runPrimary } = await import('#src/cluster.ts');
  runPrimary({ WORKERS: workers, SHUTDOWN_TIMEOUT: config.SHUTDOWN_TIMEOUT }, rootLogger);
} else {
  await serve(cluster.isWorker ? rootLogger.child({ worker: cluster.worker!.id, pid: process.pid }) : rootLogger);
}

async function serve(logger: typeof rootLogger): Promise<void> {
  const started = performance.now();
  try {
    // Loaded here, not at the top: a cluster primary never loads the server.
    const [{ createKeyhold }, { listen }, { startBanner }] = await Promise.all([import('#src/keyhold.ts'), import('#src/server.ts'), import('#src/banner.ts')]);
    const keyhold = await createKeyhold(config, logger);
    const running = await listen(keyhold);
    logger.info(
      { issuer: config.ISSUER, listening: running.url, metrics: running.metricsUrl, database: keyhold.databaseKind, engineState: keyhold.redis ? 'redis' : 'sql', startupMs: Math.round(performance.now() - started) },
      'keyhold started',
    );
    // On stderr: stdout may be a log collector's, one JSON object a line.
    if (config.NODE_ENV === 'development' && !cluster.isWorker) process.stderr.write(startBanner(config, running.url, keyhold.databaseKind, envFile));
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      running.stop().then(
        () => process.exit(0),
        (error) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  } catch (error) {
    logger.fatal({ err: error instanceof Error ? { message: error.message, name: error.name } : error }, 'keyhold failed to start');
    process.exit(1);
  }
}
