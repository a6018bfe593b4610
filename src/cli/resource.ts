// keyhold resource create | list | show | update | delete
// Through the administration service the Admin API uses (src/services/admin/resources.ts).
import { pageOptions, pageRequest, parseOptions, required, scopeList, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';

const identifier = { identifier: { type: 'string' } } as const;

/** --access-token-ttl SECONDS; "" (update only) goes back to ACCESS_TOKEN_TTL. */
function accessTokenTtl(value: string | undefined, clearable: boolean): number | null | undefined {
  if (value === undefined) return undefined;
  if (clearable && value === '') return null;
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new UsageError('--access-token-ttl must be a whole number of seconds');
  return Number(value);
}

function planResourceCreate(args: string[]): Plan {
  const values = parseOptions(args, { ...identifier, scopes: { type: 'string' }, 'access-token-ttl': { type: 'string' } });
  const input = { identifier: required(values.identifier, 'identifier'), scopes: scopeList(values.scopes), accessTokenTtl: accessTokenTtl(values['access-token-ttl'], false) ?? undefined };
  return { needs: 'core', run: (core) => core.admin.resources.create(CLI_ACTOR, input) };
}

function planResourceList(args: string[]): Plan {
  const page = pageRequest(parseOptions(args, pageOptions));
  return { needs: 'core', run: (core) => core.admin.resources.list(CLI_ACTOR, page) };
}

function planResourceShow(args: string[]): Plan {
  const target = required(parseOptions(args, identifier).identifier, 'identifier');
  return { needs: 'core', run: (core) => core.admin.resources.get(CLI_ACTOR, target) };
}

function planResourceUpdate(args: string[]): Plan {
  const values = parseOptions(args, { ...identifier, scopes: { type: 'string' }, 'access-token-ttl': { type: 'string' } });
  const target = required(values.identifier, 'identifier');
  const change = { scopes: values.scopes === undefined ? undefined : scopeList(values.scopes), accessTokenTtl: accessTokenTtl(values['access-token-ttl'], true) };
  return { needs: 'core', run: (core) => core.admin.resources.update(CLI_ACTOR, target, change) };
}

function planResourceDelete(args: string[]): Plan {
  const target = required(parseOptions(args, identifier).identifier, 'identifier');
  return {
    needs: 'core',
    run: async (core) => {
      await core.admin.resources.remove(CLI_ACTOR, target);
      return { deleted: target };
    },
  };
}

export const resourceCommands: CommandGroup = { create: planResourceCreate, list: planResourceList, show: planResourceShow, update: planResourceUpdate, delete: planResourceDelete };
