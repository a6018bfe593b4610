// `npm start`: read the configuration, build Keyhold, serve until told to stop.
import '../bin/require-node.js';
import { startBanner } from '#src/banner.ts';
import { ConfigError, loadConfig, loadEnvFile, settingWarnings, type Config } from '#src/config.ts';
import { createKeyhold } from '#src/keyhold.ts';
import { createServerLogger } from '#src/logger.ts';
import { listen } from '#src/server.ts';

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

const logger = await createServerLogger(config);
for (const warning of settingWarnings()) logger.warn(warning);
const started = performance.now();
try {
  const keyhold = await createKeyhold(config, logger);
  const running = await listen(keyhold);
  logger.info(
    { issuer: config.ISSUER, listening: running.url, metrics: running.metricsUrl, database: keyhold.databaseKind, engineState: keyhold.redis ? 'redis' : 'sql', startupMs: Math.round(performance.now() - started) },
    'keyhold started',
  );
  // On stderr: stdout may be a log collector's, one JSON object a line.
  if (config.NODE_ENV === 'development') process.stderr.write(startBanner(config, running.url, keyhold.databaseKind, envFile));
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
