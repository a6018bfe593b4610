// keyhold role create | grant | list | show | update | delete | set-grants
import { jsonObjectOption, pageOptions, pageRequest, parseOptions, required, scopeList, UsageError } from '#src/cli/args.ts';
import type { CommandGroup, Plan } from '#src/cli/plan.ts';
import { CLI_ACTOR } from '#src/services/admin/actor.ts';
import { grantRole } from '#src/services/roles.ts';

const name = { name: { type: 'string' } } as const;

function planRoleCreate(args: string[]): Plan {
  const values = parseOptions(args, { ...name, description: { type: 'string' } });
  const input = { name: required(values.name, 'name'), description: values.description };
  return { needs: 'core', run: (core) => core.admin.roles.create(CLI_ACTOR, input) };
}

/** Adds scopes of one API to what the role grants. */
function planRoleGrant(args: string[]): Plan {
  const values = parseOptions(args, { ...name, resource: { type: 'string' }, scopes: { type: 'string' } });
  const input = { name: required(values.name, 'name'), resource: required(values.resource, 'resource'), scopes: scopeList(values.scopes) };
  return { needs: 'core', run: (core) => grantRole(core.db, input) };
}

function planRoleList(args: string[]): Plan {
  const page = pageRequest(parseOptions(args, pageOptions));
  return { needs: 'core', run: (core) => core.admin.roles.list(CLI_ACTOR, page) };
}

function planRoleShow(args: string[]): Plan {
  const role = required(parseOptions(args, name).name, 'name');
  return { needs: 'core', run: (core) => core.admin.roles.get(CLI_ACTOR, role) };
}

function planRoleUpdate(args: string[]): Plan {
  const values = parseOptions(args, { ...name, description: { type: 'string' } });
  const role = required(values.name, 'name');
  const description = required(values.description, 'description');
  return { needs: 'core', run: (core) => core.admin.roles.update(CLI_ACTOR, role, { description }) };
}

function planRoleDelete(args: string[]): Plan {
  const role = required(parseOptions(args, name).name, 'name');
  return {
    needs: 'core',
    run: async (core) => {
      await core.admin.roles.remove(CLI_ACTOR, role);
      return { deleted: role };
    },
  };
}

/** Replaces everything the role grants: --grants '{"<resource>": ["scope", …], …}'. */
function planRoleSetGrants(args: string[]): Plan {
  const values = parseOptions(args, { ...name, grants: { type: 'string' } });
  const role = required(values.name, 'name');
  const grants = Object.entries(jsonObjectOption(required(values.grants, 'grants'), 'grants')).map(([resource, scopes]) => {
    if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string')) throw new UsageError(`--grants: the scopes of ${resource} must be an array of strings`);
    return { resource, scopes: scopes as string[] };
  });
  return { needs: 'core', run: (core) => core.admin.roles.setGrants(CLI_ACTOR, role, grants) };
}

export const roleCommands: CommandGroup = {
  create: planRoleCreate,
  grant: planRoleGrant,
  list: planRoleList,
  show: planRoleShow,
  update: planRoleUpdate,
  delete: planRoleDelete,
  'set-grants': planRoleSetGrants,
};
