// keyhold user create | update | import
import { createReadStream, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describeError, parseOptions, required, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { updateAccountAuthorization } from '#src/services/account-admin.ts';
import { importAccounts } from '#src/services/account-import.ts';
import { isKeyholdError, KeyholdError } from '#src/errors.ts';
import { findAccountByEmail } from '#src/stores/account-store.ts';

function planUserCreate(args: string[]): Plan {
  const values = parseOptions(args, {
    email: { type: 'string' },
    password: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', multiple: true },
    tier: { type: 'string' },
    tenant: { type: 'string' },
    verified: { type: 'boolean', default: false },
  });
  const email = required(values.email, 'email');
  const password = required(values.password, 'password');
  return {
    needs: 'core',
    run: (core) =>
      core.accounts
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
          if (isKeyholdError(error, 'password_rejected')) throw new Error(`password rejected: ${error.message}`);
          throw error;
        }),
  };
}

function planUserUpdate(args: string[]): Plan {
  const values = parseOptions(args, {
    email: { type: 'string' },
    role: { type: 'string', multiple: true },
    tier: { type: 'string' },
    tenant: { type: 'string' },
    active: { type: 'string' },
  });
  const email = required(values.email, 'email');
  if (values.active !== undefined && values.active !== 'true' && values.active !== 'false') throw new UsageError('--active must be true or false');
  const change = { roles: values.role, tier: values.tier, tenant: values.tenant, active: values.active === undefined ? undefined : values.active === 'true' };
  return { needs: 'core', run: (core) => updateAccountAuthorization(core.db, email, change, 'cli') };
}

function planUserImport(args: string[]): Plan {
  const values = parseOptions(args, { file: { type: 'string' } });
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
  return { needs: 'core', run: (core) => importAccounts(core.db, createInterface({ input, crlfDelay: Infinity }), core.config.DEFAULT_ROLES) };
}

function planUserUnlock(args: string[]): Plan {
  const values = parseOptions(args, { email: { type: 'string' } });
  const email = required(values.email, 'email');
  return {
    needs: 'core',
    async run(core) {
      const account = await findAccountByEmail(core.db, email);
      if (!account) throw new KeyholdError('unknown_account');
      const wasLocked = await core.lockout.unlock(account.id, 'cli');
      return { id: account.id, email: account.email, was_locked: wasLocked, locked: false };
    },
  };
}

export const userCommands: CommandGroup = { create: planUserCreate, update: planUserUpdate, import: planUserImport, unlock: planUserUnlock };
