// keyhold user create | list | show | update | delete | logout | password-reset | unlock | import
// Everything but import goes through the administration service the Admin API uses
// (src/services/admin/users.ts), as the operator (`cli`, every tenant).
import { createReadStream, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { booleanOption, describeError, pageOptions, pageRequest, parseOptions, readSecretFromStdin, required, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, CommandIo, Plan } from '#src/cli/plan.ts';
import type { Core } from '#src/core.ts';
import { importAccounts } from '#src/services/account-import.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import type { AccountReference } from '#src/services/admin/users.ts';
import { isKeyholdError } from '#src/errors.ts';

const who = { email: { type: 'string' }, id: { type: 'string' } } as const;

/** The account named by --email or --id (exactly one). */
function reference(values: { email?: string; id?: string }): AccountReference {
  if (values.email !== undefined && values.id !== undefined) throw new UsageError('give --email or --id, not both');
  if (values.id !== undefined) return { id: values.id };
  return { email: required(values.email, 'email') };
}

// The same policy as the pages; its messages speak to a person choosing a password.
function explainRejectedPassword(error: unknown): never {
  if (isKeyholdError(error, 'password_rejected')) throw new Error(`password rejected: ${error.message}`);
  throw error;
}

function planUserCreate(args: string[], io: CommandIo): Plan {
  const values = parseOptions(args, {
    email: { type: 'string' },
    password: { type: 'string' },
    'password-stdin': { type: 'boolean', default: false },
    name: { type: 'string' },
    role: { type: 'string', multiple: true },
    tier: { type: 'string' },
    tenant: { type: 'string' },
    verified: { type: 'boolean', default: false },
  });
  const email = required(values.email, 'email');
  if (values.password !== undefined && values['password-stdin']) throw new UsageError('give --password or --password-stdin, not both');
  if (values.password === undefined && !values['password-stdin']) throw new UsageError('missing required option --password (or --password-stdin)');
  const fromStdin = values['password-stdin'] ? readSecretFromStdin(io.stdin) : undefined;
  // Read now, before the database is opened: nothing waits on a terminal with a connection open.
  fromStdin?.catch(() => {});
  return {
    needs: 'core',
    run: async (core) =>
      core.admin.users
        .create(CLI_ACTOR, {
          email,
          password: values.password ?? (await fromStdin!),
          name: values.name,
          roles: values.role,
          tier: values.tier,
          tenant: values.tenant,
          emailVerified: values.verified,
        })
        .catch(explainRejectedPassword),
  };
}

function planUserList(args: string[]): Plan {
  const values = parseOptions(args, {
    email: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    tier: { type: 'string' },
    tenant: { type: 'string' },
    active: { type: 'string' },
    ...pageOptions,
  });
  const filter = { email: values.email, name: values.name, role: values.role, tier: values.tier, tenant: values.tenant, active: booleanOption(values.active, 'active') };
  const page = pageRequest(values);
  return { needs: 'core', run: (core) => core.admin.users.list(CLI_ACTOR, filter, page) };
}

function planUserShow(args: string[]): Plan {
  const target = reference(parseOptions(args, who));
  return { needs: 'core', run: (core) => core.admin.users.get(CLI_ACTOR, target) };
}

function planUserUpdate(args: string[]): Plan {
  const values = parseOptions(args, {
    ...who,
    name: { type: 'string' },
    role: { type: 'string', multiple: true },
    tier: { type: 'string' },
    tenant: { type: 'string' },
    active: { type: 'string' },
  });
  const target = reference(values);
  const change = { name: values.name, roles: values.role, tier: values.tier, tenant: values.tenant, active: booleanOption(values.active, 'active') };
  return { needs: 'core', run: (core) => core.admin.users.update(CLI_ACTOR, target, change) };
}

/** A command on one account (--email or --id) that answers `{ [answer]: its id }`. */
function planAccountAction(args: string[], answer: string, act: (users: Core['admin']['users'], target: AccountReference) => Promise<void>): Plan {
  const target = reference(parseOptions(args, who));
  return {
    needs: 'core',
    run: async (core) => {
      const account = await core.admin.users.get(CLI_ACTOR, target);
      await act(core.admin.users, target);
      return { [answer]: account.id };
    },
  };
}

const planUserDelete = (args: string[]) => planAccountAction(args, 'deleted', (users, target) => users.remove(CLI_ACTOR, target));
const planUserLogout = (args: string[]) => planAccountAction(args, 'logged_out', (users, target) => users.logout(CLI_ACTOR, target));
// The mail is queued; the server's mail delivery job sends it.
const planUserPasswordReset = (args: string[]) => planAccountAction(args, 'password_reset_queued', (users, target) => users.sendPasswordReset(CLI_ACTOR, target));

function planUserImport(args: string[], io: CommandIo): Plan {
  const values = parseOptions(args, { file: { type: 'string' } });
  const file = required(values.file, 'file');
  // Opened now, before configuration and database: a wrong path is refused at once.
  let input: NodeJS.ReadableStream = io.stdin;
  if (file !== '-') {
    try {
      input = createReadStream('', { fd: openSync(file, 'r') });
    } catch (error) {
      throw new Error(`cannot read ${file}: ${describeError(error)}`);
    }
  }
  return { needs: 'core', run: (core) => importAccounts(core.db, createInterface({ input, crlfDelay: Infinity }), core.config.DEFAULT_ROLES) };
}

// The same unlock as the Admin API's, so both leave the same one audit entry.
function planUserUnlock(args: string[]): Plan {
  const values = parseOptions(args, { email: { type: 'string' } });
  const email = required(values.email, 'email');
  return {
    needs: 'core',
    async run(core) {
      const account = await core.admin.users.get(CLI_ACTOR, { email });
      const { was_locked } = await core.admin.users.unlock(CLI_ACTOR, { id: account.id });
      return { id: account.id, email: account.email, was_locked, locked: false };
    },
  };
}

export const userCommands: CommandGroup = {
  create: planUserCreate,
  list: planUserList,
  show: planUserShow,
  update: planUserUpdate,
  delete: planUserDelete,
  logout: planUserLogout,
  'password-reset': planUserPasswordReset,
  import: planUserImport,
  unlock: planUserUnlock,
};
