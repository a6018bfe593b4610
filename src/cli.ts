// The `keyhold` command: operator tasks against the database the server uses. Scripts
// drive it, so the output contract is strict: on success exactly one JSON document on
// stdout and exit 0; on failure one line `keyhold: <message>` on stderr, exit 2 when the
// command line itself is wrong, 1 when the request failed. Nothing else reaches stdout.
// Each command group is a file under src/cli/; commands build the core only (src/core.ts),
// never the HTTP app or the engine host.
import '../bin/require-node.js';
import { describeError, UsageError } from '#src/cli/args.ts';
import { usage } from '#src/cli/usage.ts';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    process.stdout.write(usage);
    return 2;
  }
  if (['help', '--help', '-h'].includes(argv[0]!)) {
    process.stdout.write(usage);
    return 0;
  }
  try {
    // Loaded only now: help needs none of the commands' modules.
    const { loadCliConfig } = await import('#src/cli/cli-config.ts');
    const config = loadCliConfig();
    let result: unknown;
    // Beside a running embedded server, the server runs the command (it holds the database).
    const remote = config.DATABASE_URL ? { ran: false as const } : await (await import('#src/cli/remote.ts')).runThroughServer(config.DATA_DIR, argv);
    if (remote.ran) result = remote.result;
    else {
      const [{ planCommand }, { execute }] = await Promise.all([import('#src/cli/commands.ts'), import('#src/cli/execute.ts')]);
      result = await execute(planCommand(argv), config);
    }
    // Indented for a person at a terminal, one line for a pipe.
    process.stdout.write(`${JSON.stringify(result, null, process.stdout.isTTY ? 2 : undefined)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`keyhold: ${describeError(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

// A failure outside the awaited chain (an emitter's 'error', a stray rejection) would
// otherwise print a stack trace; the contract is one line. Exiting here is what Node
// would do anyway, only quieter.
function fail(error: unknown): never {
  process.stderr.write(`keyhold: ${describeError(error)}\n`);
  process.exit(1);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

process.exitCode = await main(process.argv.slice(2));
