// Runs a plan: reads the configuration as the server does, then opens the bare database or
// builds the core, runs the command, and closes what it opened. Never the HTTP app, the
// engine host or the server's background jobs.
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { describeError } from '#src/cli/args.ts';
import type { Plan } from '#src/cli/plan.ts';
import type { Config } from '#src/config.ts';
import { createCore } from '#src/core.ts';
import { createLogger } from '#src/logger.ts';
import { openDatabase } from '#src/stores/database.ts';

// Logs go to stderr, at CLI_LOG_LEVEL (silent by default): the server's LOG_LEVEL would
// otherwise interleave start-up lines with the JSON scripts parse.
function createCliLogger(config: Config): Logger {
  return createLogger(config.CLI_LOG_LEVEL, pino.destination({ fd: 2, sync: true }), 'keyhold-cli');
}

// Connecting once up front, with a deadline, turns an unreachable or misnamed Postgres
// into a clear refusal: the pool has no connect timeout (a silent host would hold the
// command for the kernel's TCP timeout), and the first query, inside the migrator, would
// report it as a failed migration.
async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // A connection that breaks after connect must not surface as an unhandled 'error'.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot connect to the database: ${describeError(error)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function execute(plan: Plan, config: Config): Promise<unknown> {
  const logger = createCliLogger(config);
  if (config.DATABASE_URL) await checkPostgres(config.DATABASE_URL);
  if (plan.needs === 'database') {
    const database = await openDatabase(config.process, logger);
    logger.debug({ layers: ['database'] }, 'opened the database');
    try {
      return await plan.run(database.db);
    } finally {
      await database.close();
    }
  }
  const core = await createCore(config, logger);
  logger.debug({ layers: ['core'] }, 'built the core');
  try {
    return await plan.run(core);
  } finally {
    await core.close();
  }
}
