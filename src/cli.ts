// The `keyhold` command: operator tasks against the database the server uses. Scripts
// drive it, so the output contract is strict: on success exactly one JSON document on
// stdout and exit 0; on failure one line `keyhold: <message>` on stderr, exit 2 when the
// command line itself is wrong, 1 when the request failed. Nothing else reaches stdout.
import { createReadStream, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '#src/config.ts';
import { createKeyhold, type Keyhold } from '#src/keyhold.ts';
import { createLogger } from '#src/logger.ts';
import { updateAccountAuthorization } from '#src/services/account-admin.ts';
import { importAccounts } from '#src/services/account-import.ts';
import { PasswordRejectedError } from '#src/services/lifecycle.ts';
import { createRole, grantRole } from '#src/services/roles.ts';
import { createResource } from '#src/services/resources.ts';
import { listKeys, retireKey, rotateKeys, type SigningAlg } from '#src/services/signing-keys.ts';
import { openDatabase } from '#src/stores/database.ts';
import { migrateToLatest } from '#src/stores/migrations.ts';

const usage = `Usage: keyhold <command> [options]

Commands:
  migrate                               apply pending database migrations
  user create --email E --password P    create an account
      [--name N] [--role R]... [--tier T] [--tenant T] [--verified]
  user update --email E [--role R]... [--tier T] [--tenant T] [--active true|false]
                                        change an account; any --role replaces its roles
                                        (--role "" removes them all), "" clears tier/tenant
  user import --file PATH               import accounts from JSON lines (--file - reads stdin),
                                        one {"email", "password_hash", "name", "email_verified",
                                        "roles", "tier", "tenant"} per line; password_hash is
                                        bcrypt or argon2id; existing emails and invalid lines
                                        are skipped and listed with their line numbers
  client create --metadata JSON         register a client (RFC 7591 metadata); a missing
                                        client_id/client_secret is generated and printed once
                                        its "scope" is its allow-list, API scopes included
  role create --name R [--description D]
                                        define a role (accounts get DEFAULT_ROLES, default user)
  role grant --name R --resource URI --scopes "a:read a:write"
                                        let accounts with role R get these scopes of an API
                                        (clients also need them in their scope metadata)
  resource create --identifier URI --scopes "a:read a:write" [--access-token-ttl SECONDS]
                                        register an API resource (RFC 8707)
  invite create --email E               invite someone to register (REGISTRATION=invite): mails
                                        them an invitation code and prints it
  keys list                             list signing keys and their stages
  keys rotate [--alg ALG]               publish new signing keys; the current ones retire
                                        when the new ones start signing
  keys retire KID                       retire one signing key now
  help                                  show this text

Configuration comes from the environment, as for the server (DATABASE_URL, DATA_DIR,
KEYHOLD_SECRET, ...). Success prints one JSON document on stdout; failure prints one
line on stderr and exits 1 (request failed) or 2 (bad command line).
`;

/** The command line cannot be turned into a request: exit 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

const signingAlgs: readonly SigningAlg[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

// What a parsed command needs: the bare database (migrate must not do more than migrate),
// or the whole graph, so that accounts, clients and keys follow exactly the server's rules.
type Plan =
  | { needs: 'database'; run(db: Awaited<ReturnType<typeof openDatabase>>['db']): Promise<unknown> }
  | { needs: 'keyhold'; run(keyhold: Keyhold): Promise<unknown> };

// node:util's messages are multi-line and capitalised; the contract is one line.
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

function parse<T>(parser: () => T): T {
  try {
    return parser();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS_')) {
      const message = oneLine((error as Error).message);
      throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
    }
    throw error;
  }
}

function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new UsageError(`missing required option --${flag}`);
  return value;
}

function planUserCreate(args: string[]): Plan {
  const { values } = parse(() =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        email: { type: 'string' },
        password: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string', multiple: true },
        tier: { type: 'string' },
        tenant: { type: 'string' },
        verified: { type: 'boolean', default: false },
      },
    }),
  );
  const email = required(values.email, 'email');
  const password = required(values.password, 'password');
  return {
    needs: 'keyhold',
    run: (keyhold) =>
      keyhold.accounts
        .create({
          email,
          password,
          name: values.name,
          roles: values.role,
          tier: values.tier,
          tenant: values.tenant,
          emailVerified: values.verified,
        })
        .catch((error: unknown) => {
          // The same policy as the pages; its messages speak to a person choosing a password.
          if (error instanceof PasswordRejectedError) throw new Error(`password rejected: ${error.message}`);
          throw error;
        }),
  };
}

function planUserUpdate(args: string[]): Plan {
  const { values } = parse(() =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        email: { type: 'string' },
        role: { type: 'string', multiple: true },
        tier: { type: 'string' },
        tenant: { type: 'string' },
        active: { type: 'string' },
      },
    }),
  );
  const email = required(values.email, 'email');
  if (values.active !== undefined && values.active !== 'true' && values.active !== 'false') throw new UsageError('--active must be true or false');
  const change = { roles: values.role, tier: values.tier, tenant: values.tenant, active: values.active === undefined ? undefined : values.active === 'true' };
  return { needs: 'keyhold', run: (keyhold) => updateAccountAuthorization(keyhold.db, email, change, 'cli') };
}

function planRoleCreate(args: string[]): Plan {
  const { values } = parse(() => parseArgs({ args, strict: true, allowPositionals: false, options: { name: { type: 'string' }, description: { type: 'string' } } }));
  const name = required(values.name, 'name');
  return { needs: 'keyhold', run: (keyhold) => createRole(keyhold.db, { name, description: values.description }) };
}

function planRoleGrant(args: string[]): Plan {
  const { values } = parse(() =>
    parseArgs({ args, strict: true, allowPositionals: false, options: { name: { type: 'string' }, resource: { type: 'string' }, scopes: { type: 'string' } } }),
  );
  const name = required(values.name, 'name');
  const resource = required(values.resource, 'resource');
  const scopes = required(values.scopes, 'scopes').split(/\s+/).filter(Boolean);
  if (scopes.length === 0) throw new UsageError('--scopes must list at least one scope');
  return { needs: 'keyhold', run: (keyhold) => grantRole(keyhold.db, { name, resource, scopes }) };
}

function planUserImport(args: string[]): Plan {
  const { values } = parse(() => parseArgs({ args, strict: true, allowPositionals: false, options: { file: { type: 'string' } } }));
  const file = required(values.file, 'file');
  // Opened now, before configuration and database: a wrong path is refused at once.
  let input: NodeJS.ReadableStream = process.stdin;
  if (file !== '-') {
    try {
      input = createReadStream('', { fd: openSync(file, 'r') });
    } catch (error) {
      throw new Error(`cannot read ${file}: ${describeError(error)}`);
    }
  }
  return { needs: 'keyhold', run: (keyhold) => importAccounts(keyhold.db, createInterface({ input, crlfDelay: Infinity }), keyhold.config.DEFAULT_ROLES) };
}

function planClientCreate(args: string[]): Plan {
  const { values } = parse(() => parseArgs({ args, strict: true, allowPositionals: false, options: { metadata: { type: 'string' } } }));
  const text = required(values.metadata, 'metadata');
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--metadata is not valid JSON: ${oneLine((error as Error).message)}`);
  }
  // The stored metadata plus the generated credentials: the only time the secret is shown.
  return { needs: 'keyhold', run: (keyhold) => keyhold.createClient(metadata) };
}

function planInviteCreate(args: string[]): Plan {
  const { values } = parse(() => parseArgs({ args, strict: true, allowPositionals: false, options: { email: { type: 'string' } } }));
  const email = required(values.email, 'email');
  return { needs: 'keyhold', run: (keyhold) => keyhold.registration.invite(email, 'cli') };
}

function planResourceCreate(args: string[]): Plan {
  const { values } = parse(() =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { identifier: { type: 'string' }, scopes: { type: 'string' }, 'access-token-ttl': { type: 'string' } },
    }),
  );
  const identifier = required(values.identifier, 'identifier');
  const scopes = required(values.scopes, 'scopes').split(/\s+/).filter(Boolean);
  if (scopes.length === 0) throw new UsageError('--scopes must list at least one scope');
  let accessTokenTtl: number | undefined;
  const ttl = values['access-token-ttl'];
  if (ttl !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(ttl)) throw new UsageError('--access-token-ttl must be a whole number of seconds');
    accessTokenTtl = Number(ttl);
  }
  return { needs: 'keyhold', run: (keyhold) => createResource(keyhold.db, { identifier, scopes, accessTokenTtl }) };
}

function planKeys(subcommand: string, args: string[]): Plan {
  switch (subcommand) {
    case 'list':
      parse(() => parseArgs({ args, strict: true, allowPositionals: false, options: {} }));
      return { needs: 'keyhold', run: async (keyhold) => ({ keys: await listKeys(keyhold.db) }) };
    case 'rotate': {
      const { values } = parse(() => parseArgs({ args, strict: true, allowPositionals: false, options: { alg: { type: 'string' } } }));
      const alg = values.alg;
      if (alg !== undefined && !signingAlgs.includes(alg as SigningAlg)) {
        throw new UsageError(`--alg must be one of ${signingAlgs.join(', ')}`);
      }
      return {
        needs: 'keyhold',
        run: async (keyhold) => {
          // A key for an algorithm the nodes are not configured for would be published but
          // never chosen to sign, and would confuse the next rotation.
          if (alg !== undefined && !keyhold.keyOptions.algorithms.includes(alg as SigningAlg)) {
            throw new Error(`${alg} is not in SIGNING_ALGS (${keyhold.keyOptions.algorithms.join(', ')})`);
          }
          return { keys: await rotateKeys(keyhold.db, keyhold.keyOptions, alg as SigningAlg | undefined) };
        },
      };
    }
    case 'retire': {
      const { positionals } = parse(() => parseArgs({ args, strict: true, allowPositionals: true, options: {} }));
      if (positionals.length === 0) throw new UsageError('missing key id: keyhold keys retire KID');
      if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
      const kid = positionals[0]!;
      return { needs: 'keyhold', run: (keyhold) => retireKey(keyhold.db, keyhold.keyOptions, kid) };
    }
    default:
      throw new UsageError(`unknown command "keys ${subcommand}" (run "keyhold help")`);
  }
}

const groups: Record<string, Record<string, (args: string[]) => Plan>> = {
  user: { create: planUserCreate, update: planUserUpdate, import: planUserImport },
  role: { create: planRoleCreate, grant: planRoleGrant },
  client: { create: planClientCreate },
  resource: { create: planResourceCreate },
  invite: { create: planInviteCreate },
};

/** Turns argv into a plan, before any configuration or database is touched. */
function planCommand(argv: string[]): Plan {
  const [command, subcommand, ...rest] = argv;
  if (command === 'migrate') {
    parse(() => parseArgs({ args: argv.slice(1), strict: true, allowPositionals: false, options: {} }));
    return { needs: 'database', run: async (db) => ({ applied: await migrateToLatest(db) }) };
  }
  if (command === 'keys') {
    if (subcommand === undefined) throw new UsageError('missing subcommand: keyhold keys list|rotate|retire');
    return planKeys(subcommand, rest);
  }
  // Own properties only: "constructor" or "toString" must not resolve to Object's members.
  const group = command !== undefined && Object.hasOwn(groups, command) ? groups[command] : undefined;
  if (!group) throw new UsageError(`unknown command "${command}" (run "keyhold help")`);
  if (subcommand === undefined) throw new UsageError(`missing subcommand: keyhold ${command} ${Object.keys(group).join('|')}`);
  const plan = Object.hasOwn(group, subcommand) ? group[subcommand] : undefined;
  if (!plan) throw new UsageError(`unknown command "${command} ${subcommand}" (run "keyhold help")`);
  return plan(rest);
}

// Logs go to stderr, at CLI_LOG_LEVEL (silent by default): the server's LOG_LEVEL would
// otherwise interleave start-up lines with the JSON scripts parse.
function createCliLogger(config: Config): Logger {
  return createLogger(config.CLI_LOG_LEVEL, pino.destination({ fd: 2, sync: true }), 'keyhold-cli');
}

function describeError(error: unknown): string {
  // net's happy-eyeballs connect (localhost → ::1 and 127.0.0.1) fails with an
  // AggregateError whose own message is empty.
  if (error instanceof AggregateError && error.errors.length > 0 && !error.message) return describeError(error.errors[0]);
  if (!(error instanceof Error)) return oneLine(String(error));
  return oneLine(error.message || error.name);
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

async function execute(plan: Plan): Promise<unknown> {
  const config = loadConfig();
  const logger = createCliLogger(config);
  if (config.DATABASE_URL) await checkPostgres(config.DATABASE_URL);
  if (plan.needs === 'database') {
    const database = await openDatabase(config, logger);
    try {
      return await plan.run(database.db);
    } finally {
      await database.close();
    }
  }
  const keyhold = await createKeyhold(config, logger);
  try {
    return await plan.run(keyhold);
  } finally {
    await keyhold.close();
  }
}

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
    const result = await execute(planCommand(argv));
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
